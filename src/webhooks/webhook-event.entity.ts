import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { WebhookEventType } from './webhook-event-types';

/**
 * The outbox: one row per event, written by the database triggers of the webhooks migrations in
 * the very statement that writes the audit event (or the user) it describes
 * (docs/architecture/0006-webhook-outbox.md). `dispatched` once a delivery per subscribed endpoint exists.
 */
@Entity('webhook_events')
@Index('idx_webhook_events_dispatched_id', ['dispatched', 'id'])
export class WebhookEvent {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column({ type: 'varchar', length: 40 })
  type: WebhookEventType;

  @Column({ type: 'timestamptz' })
  at: Date;

  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId: string | null;

  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId: string | null;

  @Column({ type: 'varchar', length: 254, nullable: true })
  email: string | null;

  @Column({ type: 'jsonb' })
  details: Record<string, unknown>;

  @Column({ type: 'boolean', default: false })
  dispatched: boolean;
}
