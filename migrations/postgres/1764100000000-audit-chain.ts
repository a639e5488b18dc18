import { MigrationInterface, QueryRunner } from 'typeorm';

export class AuditChainPostgres1764100000000 implements MigrationInterface {
  name = 'AuditChainPostgres1764100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE "audit_events" ADD "chain_index" bigint`);
    await db.query(`ALTER TABLE "audit_events" ADD "seal" character varying(64)`);
    await db.query(`CREATE UNIQUE INDEX "idx_audit_events_chain_index" ON "audit_events" ("chain_index")`);
    await db.query(
      `CREATE TABLE "audit_anchors" ("id" SERIAL NOT NULL, "kind" character varying(8) NOT NULL, "chain_index" bigint NOT NULL, "seal" character varying(64) NOT NULL, "anchor_seal" character varying(64) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_0348aa5906ffaf282e114fcbb3b" PRIMARY KEY ("id"))`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE "audit_anchors"`);
    await db.query(`DROP INDEX "public"."idx_audit_events_chain_index"`);
    await db.query(`ALTER TABLE "audit_events" DROP COLUMN "seal"`);
    await db.query(`ALTER TABLE "audit_events" DROP COLUMN "chain_index"`);
  }
}
