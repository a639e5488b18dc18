import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { WebhookEvent } from './webhook-event.entity';

/**
 * One event for one endpoint until it is delivered or given up. `nextAttemptAt` is null once it
 * is settled; while an attempt is under way it is the attempt's lease, so a crash only delays it.
 */
@Entity('webhook_deliveries')
@Unique('uq_webhook_deliveries_event_endpoint', ['eventId', 'endpointId'])
export class WebhookDelivery {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  /** The `webhook-id` header: the same on every attempt. */
  @Column({ name: 'message_id', type: 'varchar', length: 40 })
  messageId: string;

  @ManyToOne(() => WebhookEvent, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id' })
  event?: WebhookEvent;

  @Column({ name: 'event_id', type: 'bigint' })
  eventId: string;

  @ManyToOne(() => WebhookEndpoint, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'endpoint_id' })
  endpoint?: WebhookEndpoint;

  @Index('idx_webhook_deliveries_endpoint_id')
  @Column({ name: 'endpoint_id', type: 'uuid' })
  endpointId: string;

  @Column({ type: 'int' })
  attempts: number;

  @Index('idx_webhook_deliveries_next_attempt_at')
  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;
}
