import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sealing by rounds: events are no longer updated once written. Events sealed one by one keep
 * their chain index and seal, and still verify; the index skips the events that have none.
 */
export class AuditSealRoundsPostgres1766000000000 implements MigrationInterface {
  name = 'AuditSealRoundsPostgres1766000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE TABLE "audit_seals" ("round" bigint NOT NULL, "sealed_at" TIMESTAMP WITH TIME ZONE NOT NULL, "key_id" character varying(16) NOT NULL, "events" text NOT NULL, "event_count" integer NOT NULL, "horizon" bigint NOT NULL, "waiting" text NOT NULL, "mac" character varying(64) NOT NULL, "fingerprints" text NOT NULL, CONSTRAINT "PK_5f1a3dd3a47824f05c61ba04be2" PRIMARY KEY ("round"))`,
    );
    await db.query(`ALTER TABLE "audit_anchors" ADD "key_id" character varying(16)`);
    await db.query(`DROP INDEX "public"."idx_audit_events_chain_index"`);
    await db.query(
      `CREATE UNIQUE INDEX "idx_audit_events_chain_index" ON "audit_events" ("chain_index") WHERE chain_index IS NOT NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX "public"."idx_audit_events_chain_index"`);
    await db.query(`CREATE UNIQUE INDEX "idx_audit_events_chain_index" ON "audit_events" ("chain_index")`);
    await db.query(`ALTER TABLE "audit_anchors" DROP COLUMN "key_id"`);
    await db.query(`DROP TABLE "audit_seals"`);
  }
}
