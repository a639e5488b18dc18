import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchemaPostgres1764000000000 implements MigrationInterface {
  name = 'InitialSchemaPostgres1764000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE TABLE "users" ("id" uuid NOT NULL, "email" character varying(254) NOT NULL, "name" character varying(200), "last_submitted_form_data" jsonb, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_login_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_97672ac88f789774dd47f7c8be3" UNIQUE ("email"), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`,
    );

    await db.query(
      `CREATE TABLE "otp_tokens" ("id" uuid NOT NULL, "user_id" uuid, "email" character varying(254) NOT NULL, "login_id" character varying(64) NOT NULL, "code_hash" character varying(64) NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "consumed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_424fa4c4152eafc0b2d929e138d" PRIMARY KEY ("id"))`,
    );
    await db.query(`CREATE INDEX "idx_otp_tokens_user_id" ON "otp_tokens" ("user_id")`);
    await db.query(`CREATE INDEX "idx_otp_tokens_login_id" ON "otp_tokens" ("login_id")`);
    await db.query(`CREATE INDEX "idx_otp_tokens_expires_at" ON "otp_tokens" ("expires_at")`);
    await db.query(
      `ALTER TABLE "otp_tokens" ADD CONSTRAINT "FK_7003728e208144a06a974b2dbe2" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );

    await db.query(
      `CREATE TABLE "sessions" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "refresh_token_hash" character varying(64) NOT NULL, "refreshed_at" TIMESTAMP WITH TIME ZONE, "refresh_expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_used_at" TIMESTAMP WITH TIME ZONE NOT NULL, "ip" character varying(45) NOT NULL, "user_agent" character varying(512), "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_3238ef96f18b355b671619111bc" PRIMARY KEY ("id"))`,
    );
    await db.query(`CREATE INDEX "idx_sessions_user_id" ON "sessions" ("user_id")`);
    await db.query(`CREATE INDEX "idx_sessions_expires_at" ON "sessions" ("expires_at")`);
    await db.query(
      `ALTER TABLE "sessions" ADD CONSTRAINT "FK_085d540d9f418cfbdc7bd55bb19" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );

    await db.query(
      `CREATE TABLE "audit_events" ("id" BIGSERIAL NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL, "type" character varying(40) NOT NULL, "user_id" uuid, "email" character varying(254), "ip" character varying(45), "user_agent" character varying(512), "session_id" uuid, "request_id" character varying(128), "details" jsonb NOT NULL, CONSTRAINT "PK_910f64d901a5c3e9878f0d4a407" PRIMARY KEY ("id"))`,
    );
    await db.query(`CREATE INDEX "idx_audit_events_at" ON "audit_events" ("at")`);
    await db.query(`CREATE INDEX "idx_audit_events_type_id" ON "audit_events" ("type", "id")`);
    await db.query(`CREATE INDEX "idx_audit_events_email_id" ON "audit_events" ("email", "id")`);
    await db.query(`CREATE INDEX "idx_audit_events_user_id_id" ON "audit_events" ("user_id", "id")`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE "audit_events"`);
    await db.query(`DROP TABLE "sessions"`);
    await db.query(`DROP TABLE "otp_tokens"`);
    await db.query(`DROP TABLE "users"`);
  }
}
