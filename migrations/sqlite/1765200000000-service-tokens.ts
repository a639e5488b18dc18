import { MigrationInterface, QueryRunner } from 'typeorm';

export class ServiceTokensSqlite1765200000000 implements MigrationInterface {
  name = 'ServiceTokensSqlite1765200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE TABLE "service_tokens" ("jti" varchar(32) PRIMARY KEY NOT NULL, "subject" varchar(72) NOT NULL, "scope" varchar(255) NOT NULL, "issued_at" datetime NOT NULL, "expires_at" datetime NOT NULL, "revoked_at" datetime)`,
    );
    await db.query(`CREATE INDEX "idx_service_tokens_expires_at" ON "service_tokens" ("expires_at")`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX "idx_service_tokens_expires_at"`);
    await db.query(`DROP TABLE "service_tokens"`);
  }
}
