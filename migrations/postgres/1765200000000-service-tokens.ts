import { MigrationInterface, QueryRunner } from 'typeorm';

export class ServiceTokensPostgres1765200000000 implements MigrationInterface {
  name = 'ServiceTokensPostgres1765200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE TABLE "service_tokens" ("jti" character varying(32) NOT NULL, "subject" character varying(72) NOT NULL, "scope" character varying(255) NOT NULL, "issued_at" TIMESTAMP WITH TIME ZONE NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_bdbfa08b1cf4adfe320e7acaa67" PRIMARY KEY ("jti"))`,
    );
    await db.query(`CREATE INDEX "idx_service_tokens_expires_at" ON "service_tokens" ("expires_at")`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX "public"."idx_service_tokens_expires_at"`);
    await db.query(`DROP TABLE "service_tokens"`);
  }
}
