import { MigrationInterface, QueryRunner } from 'typeorm';

/** The OpenID Provider's shared state: every record but its clients, ids hashed, payloads sealed. */
export class OidcPayloadsPostgres1767000001000 implements MigrationInterface {
  name = 'OidcPayloadsPostgres1767000001000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE TABLE "oidc_payloads" ("model" character varying(40) NOT NULL, "key" character varying(64) NOT NULL, "payload" text NOT NULL, "grant_key" character varying(64), "uid_key" character varying(64), "user_code_key" character varying(64), "expires_at" TIMESTAMP WITH TIME ZONE, "consumed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_97b3e01ca382176a6d96c40d967" PRIMARY KEY ("model", "key"))`,
    );
    await db.query(`CREATE INDEX "idx_oidc_payloads_grant_key" ON "oidc_payloads" ("grant_key")`);
    await db.query(`CREATE INDEX "idx_oidc_payloads_uid_key" ON "oidc_payloads" ("uid_key")`);
    await db.query(`CREATE INDEX "idx_oidc_payloads_user_code_key" ON "oidc_payloads" ("user_code_key")`);
    await db.query(`CREATE INDEX "idx_oidc_payloads_expires_at" ON "oidc_payloads" ("expires_at")`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX "public"."idx_oidc_payloads_expires_at"`);
    await db.query(`DROP INDEX "public"."idx_oidc_payloads_user_code_key"`);
    await db.query(`DROP INDEX "public"."idx_oidc_payloads_uid_key"`);
    await db.query(`DROP INDEX "public"."idx_oidc_payloads_grant_key"`);
    await db.query(`DROP TABLE "oidc_payloads"`);
  }
}
