import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchemaSqlite1764000000000 implements MigrationInterface {
  name = 'InitialSchemaSqlite1764000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE TABLE "users" ("id" varchar PRIMARY KEY NOT NULL, "email" varchar(254) NOT NULL, "name" varchar(200), "last_submitted_form_data" json, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, "last_login_at" datetime, CONSTRAINT "UQ_97672ac88f789774dd47f7c8be3" UNIQUE ("email"))`,
    );

    await db.query(
      `CREATE TABLE "otp_tokens" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar, "email" varchar(254) NOT NULL, "login_id" varchar(64) NOT NULL, "code_hash" varchar(64) NOT NULL, "expires_at" datetime NOT NULL, "created_at" datetime NOT NULL, "consumed_at" datetime, CONSTRAINT "FK_7003728e208144a06a974b2dbe2" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await db.query(`CREATE INDEX "idx_otp_tokens_user_id" ON "otp_tokens" ("user_id")`);
    await db.query(`CREATE INDEX "idx_otp_tokens_login_id" ON "otp_tokens" ("login_id")`);
    await db.query(`CREATE INDEX "idx_otp_tokens_expires_at" ON "otp_tokens" ("expires_at")`);

    await db.query(
      `CREATE TABLE "sessions" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "refresh_token_hash" varchar(64) NOT NULL, "refreshed_at" datetime, "refresh_expires_at" datetime NOT NULL, "expires_at" datetime NOT NULL, "created_at" datetime NOT NULL, "last_used_at" datetime NOT NULL, "ip" varchar(45) NOT NULL, "user_agent" varchar(512), "revoked_at" datetime, CONSTRAINT "FK_085d540d9f418cfbdc7bd55bb19" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await db.query(`CREATE INDEX "idx_sessions_user_id" ON "sessions" ("user_id")`);
    await db.query(`CREATE INDEX "idx_sessions_expires_at" ON "sessions" ("expires_at")`);

    await db.query(
      `CREATE TABLE "audit_events" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "at" datetime NOT NULL, "type" varchar(40) NOT NULL, "user_id" varchar, "email" varchar(254), "ip" varchar(45), "user_agent" varchar(512), "session_id" varchar, "request_id" varchar(128), "details" json NOT NULL)`,
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
