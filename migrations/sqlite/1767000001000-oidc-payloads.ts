import { MigrationInterface, QueryRunner } from 'typeorm';

/** The OpenID Provider's shared state: every record but its clients, ids hashed, payloads sealed. */
export class OidcPayloadsSqlite1767000001000 implements MigrationInterface {
  name = 'OidcPayloadsSqlite1767000001000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE TABLE "oidc_payloads" ("model" varchar(40) NOT NULL, "key" varchar(64) NOT NULL, "payload" text NOT NULL, "grant_key" varchar(64), "uid_key" varchar(64), "user_code_key" varchar(64), "expires_at" datetime, "consumed_at" datetime, PRIMARY KEY ("model", "key"))`,
    );
    await db.query(`CREATE INDEX "idx_oidc_payloads_grant_key" ON "oidc_payloads" ("grant_key")`);
    await db.query(`CREATE INDEX "idx_oidc_payloads_uid_key" ON "oidc_payloads" ("uid_key")`);
    await db.query(`CREATE INDEX "idx_oidc_payloads_user_code_key" ON "oidc_payloads" ("user_code_key")`);
    await db.query(`CREATE INDEX "idx_oidc_payloads_expires_at" ON "oidc_payloads" ("expires_at")`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX "idx_oidc_payloads_expires_at"`);
    await db.query(`DROP INDEX "idx_oidc_payloads_user_code_key"`);
    await db.query(`DROP INDEX "idx_oidc_payloads_uid_key"`);
    await db.query(`DROP INDEX "idx_oidc_payloads_grant_key"`);
    await db.query(`DROP TABLE "oidc_payloads"`);
  }
}
