import { MigrationInterface, QueryRunner } from 'typeorm';

/** Quoted for SQL: the audit event types that are also webhook events (src/webhooks/webhook-event-types.ts). */
const AUDITED_TYPES = `'user.deleted', 'user.email_changed', 'session.created', 'session.revoked', 'refresh_token.reused', 'otp.locked'`;

/**
 * The webhooks: endpoints (secrets sealed), the outbox of events, a delivery per event and
 * endpoint, and the history of attempts. Triggers write the outbox in the statement that writes
 * the audit event or the new user it describes (docs/architecture/0006-webhook-outbox.md).
 */
export class WebhooksPostgres1768000000000 implements MigrationInterface {
  name = 'WebhooksPostgres1768000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE TABLE "webhook_endpoints" ("id" uuid NOT NULL, "url" character varying(2000) NOT NULL, "events" jsonb NOT NULL, "secret_sealed" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_054c4cfb95223732f5939d2d546" PRIMARY KEY ("id"))`,
    );
    await db.query(
      `CREATE TABLE "webhook_events" ("id" BIGSERIAL NOT NULL, "type" character varying(40) NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL, "user_id" uuid, "session_id" uuid, "email" character varying(254), "details" jsonb NOT NULL, "dispatched" boolean NOT NULL DEFAULT false, CONSTRAINT "PK_4cba37e6a0acb5e1fc49c34ebfd" PRIMARY KEY ("id"))`,
    );
    await db.query(`CREATE INDEX "idx_webhook_events_dispatched_id" ON "webhook_events" ("dispatched", "id") `);
    await db.query(
      `CREATE TABLE "webhook_deliveries" ("id" BIGSERIAL NOT NULL, "message_id" character varying(40) NOT NULL, "event_id" bigint NOT NULL, "endpoint_id" uuid NOT NULL, "attempts" integer NOT NULL, "next_attempt_at" TIMESTAMP WITH TIME ZONE, "delivered_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "uq_webhook_deliveries_event_endpoint" UNIQUE ("event_id", "endpoint_id"), CONSTRAINT "PK_535dd409947fb6d8fc6dfc0112a" PRIMARY KEY ("id"))`,
    );
    await db.query(`CREATE INDEX "idx_webhook_deliveries_endpoint_id" ON "webhook_deliveries" ("endpoint_id") `);
    await db.query(
      `CREATE INDEX "idx_webhook_deliveries_next_attempt_at" ON "webhook_deliveries" ("next_attempt_at") `,
    );
    await db.query(
      `CREATE TABLE "webhook_attempts" ("id" BIGSERIAL NOT NULL, "delivery_id" bigint NOT NULL, "endpoint_id" uuid NOT NULL, "message_id" character varying(40) NOT NULL, "type" character varying(40) NOT NULL, "attempt" integer NOT NULL, "status" integer, "error" character varying(200), "at" TIMESTAMP WITH TIME ZONE NOT NULL, "next_attempt_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_2de7e7887ad97de459adab62638" PRIMARY KEY ("id"))`,
    );
    await db.query(`CREATE INDEX "idx_webhook_attempts_delivery_id" ON "webhook_attempts" ("delivery_id") `);
    await db.query(`CREATE INDEX "idx_webhook_attempts_endpoint_id_id" ON "webhook_attempts" ("endpoint_id", "id") `);
    await db.query(
      `ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "FK_27d1ee90033bdafe0ffe8f1be6f" FOREIGN KEY ("event_id") REFERENCES "webhook_events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await db.query(
      `ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "FK_0b882c26a9b91c26e6e86b4867c" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await db.query(
      `ALTER TABLE "webhook_attempts" ADD CONSTRAINT "FK_0d56d91d61b827bb2079c256538" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await db.query(
      `ALTER TABLE "webhook_attempts" ADD CONSTRAINT "FK_ba3c8606f00614a41a397d17d48" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await db.query(
      `CREATE FUNCTION "webhook_event_from_audit"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        INSERT INTO "webhook_events" ("type", "at", "user_id", "session_id", "email", "details")
        VALUES (NEW."type", NEW."at", NEW."user_id", NEW."session_id", NEW."email", NEW."details");
        RETURN NULL;
      END $$`,
    );
    await db.query(
      `CREATE TRIGGER "webhook_event_from_audit" AFTER INSERT ON "audit_events" FOR EACH ROW
       WHEN (NEW."type" IN (${AUDITED_TYPES})) EXECUTE FUNCTION "webhook_event_from_audit"()`,
    );
    await db.query(
      `CREATE FUNCTION "webhook_event_user_created"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        INSERT INTO "webhook_events" ("type", "at", "user_id", "email", "details")
        VALUES ('user.created', NEW."created_at", NEW."id", NEW."email", '{}');
        RETURN NULL;
      END $$`,
    );
    await db.query(
      `CREATE TRIGGER "webhook_event_user_created" AFTER INSERT ON "users" FOR EACH ROW EXECUTE FUNCTION "webhook_event_user_created"()`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER "webhook_event_user_created" ON "users"`);
    await db.query(`DROP FUNCTION "webhook_event_user_created"()`);
    await db.query(`DROP TRIGGER "webhook_event_from_audit" ON "audit_events"`);
    await db.query(`DROP FUNCTION "webhook_event_from_audit"()`);
    await db.query(`DROP TABLE "webhook_attempts"`);
    await db.query(`DROP TABLE "webhook_deliveries"`);
    await db.query(`DROP TABLE "webhook_events"`);
    await db.query(`DROP TABLE "webhook_endpoints"`);
  }
}
