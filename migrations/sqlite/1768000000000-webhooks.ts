import { MigrationInterface, QueryRunner } from 'typeorm';

/** Quoted for SQL: the audit event types that are also webhook events (src/webhooks/webhook-event-types.ts). */
const AUDITED_TYPES = `'user.deleted', 'user.email_changed', 'session.created', 'session.revoked', 'refresh_token.reused', 'otp.locked'`;

/**
 * The webhooks: endpoints (secrets sealed), the outbox of events, a delivery per event and
 * endpoint, and the history of attempts. Triggers write the outbox in the statement that writes
 * the audit event or the new user it describes (docs/architecture/0006-webhook-outbox.md). A
 * later migration that rebuilds audit_events or users must create these triggers again.
 */
export class WebhooksSqlite1768000000000 implements MigrationInterface {
  name = 'WebhooksSqlite1768000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE TABLE "webhook_endpoints" ("id" varchar PRIMARY KEY NOT NULL, "url" varchar(2000) NOT NULL, "events" json NOT NULL, "secret_sealed" text NOT NULL, "created_at" datetime NOT NULL)`,
    );
    await db.query(
      `CREATE TABLE "webhook_events" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "type" varchar(40) NOT NULL, "at" datetime NOT NULL, "user_id" varchar, "session_id" varchar, "email" varchar(254), "details" json NOT NULL, "dispatched" boolean NOT NULL DEFAULT (0))`,
    );
    await db.query(`CREATE INDEX "idx_webhook_events_dispatched_id" ON "webhook_events" ("dispatched", "id") `);
    await db.query(
      `CREATE TABLE "webhook_deliveries" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "message_id" varchar(40) NOT NULL, "event_id" integer NOT NULL, "endpoint_id" varchar NOT NULL, "attempts" integer NOT NULL, "next_attempt_at" datetime, "delivered_at" datetime, CONSTRAINT "uq_webhook_deliveries_event_endpoint" UNIQUE ("event_id", "endpoint_id"), CONSTRAINT "FK_27d1ee90033bdafe0ffe8f1be6f" FOREIGN KEY ("event_id") REFERENCES "webhook_events" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, CONSTRAINT "FK_0b882c26a9b91c26e6e86b4867c" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await db.query(`CREATE INDEX "idx_webhook_deliveries_endpoint_id" ON "webhook_deliveries" ("endpoint_id") `);
    await db.query(
      `CREATE INDEX "idx_webhook_deliveries_next_attempt_at" ON "webhook_deliveries" ("next_attempt_at") `,
    );
    await db.query(
      `CREATE TABLE "webhook_attempts" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "delivery_id" integer NOT NULL, "endpoint_id" varchar NOT NULL, "message_id" varchar(40) NOT NULL, "type" varchar(40) NOT NULL, "attempt" integer NOT NULL, "status" integer, "error" varchar(200), "at" datetime NOT NULL, "next_attempt_at" datetime, CONSTRAINT "FK_0d56d91d61b827bb2079c256538" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, CONSTRAINT "FK_ba3c8606f00614a41a397d17d48" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await db.query(`CREATE INDEX "idx_webhook_attempts_delivery_id" ON "webhook_attempts" ("delivery_id") `);
    await db.query(`CREATE INDEX "idx_webhook_attempts_endpoint_id_id" ON "webhook_attempts" ("endpoint_id", "id") `);
    await db.query(
      `CREATE TRIGGER "webhook_event_from_audit" AFTER INSERT ON "audit_events" FOR EACH ROW
       WHEN NEW."type" IN (${AUDITED_TYPES}) BEGIN
        INSERT INTO "webhook_events" ("type", "at", "user_id", "session_id", "email", "details")
        VALUES (NEW."type", NEW."at", NEW."user_id", NEW."session_id", NEW."email", NEW."details");
       END`,
    );
    await db.query(
      `CREATE TRIGGER "webhook_event_user_created" AFTER INSERT ON "users" FOR EACH ROW BEGIN
        INSERT INTO "webhook_events" ("type", "at", "user_id", "email", "details")
        VALUES ('user.created', NEW."created_at", NEW."id", NEW."email", '{}');
       END`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER "webhook_event_user_created"`);
    await db.query(`DROP TRIGGER "webhook_event_from_audit"`);
    await db.query(`DROP TABLE "webhook_attempts"`);
    await db.query(`DROP TABLE "webhook_deliveries"`);
    await db.query(`DROP TABLE "webhook_events"`);
    await db.query(`DROP TABLE "webhook_endpoints"`);
  }
}
