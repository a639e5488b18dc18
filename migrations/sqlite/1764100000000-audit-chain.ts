import { MigrationInterface, QueryRunner } from 'typeorm';

export class AuditChainSqlite1764100000000 implements MigrationInterface {
  name = 'AuditChainSqlite1764100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE "audit_events" ADD COLUMN "chain_index" integer`);
    await db.query(`ALTER TABLE "audit_events" ADD COLUMN "seal" varchar(64)`);
    await db.query(`CREATE UNIQUE INDEX "idx_audit_events_chain_index" ON "audit_events" ("chain_index")`);
    await db.query(
      `CREATE TABLE "audit_anchors" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "kind" varchar(8) NOT NULL, "chain_index" integer NOT NULL, "seal" varchar(64) NOT NULL, "anchor_seal" varchar(64) NOT NULL, "created_at" datetime NOT NULL)`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE "audit_anchors"`);
    await db.query(`DROP INDEX "idx_audit_events_chain_index"`);
    await db.query(`ALTER TABLE "audit_events" DROP COLUMN "seal"`);
    await db.query(`ALTER TABLE "audit_events" DROP COLUMN "chain_index"`);
  }
}
