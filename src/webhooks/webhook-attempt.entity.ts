import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';

/** The delivery history: one row per attempt, what the receiver answered and when the next comes. */
@Entity('webhook_attempts')
@Index('idx_webhook_attempts_endpoint_id_id', ['endpointId', 'id'])
export class WebhookAttempt {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @ManyToOne(() => WebhookDelivery, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'delivery_id' })
  delivery?: WebhookDelivery;

  @Index('idx_webhook_attempts_delivery_id')
  @Column({ name: 'delivery_id', type: 'bigint' })
  deliveryId: string;

  @ManyToOne(() => WebhookEndpoint, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'endpoint_id' })
  endpoint?: WebhookEndpoint;

  @Column({ name: 'endpoint_id', type: 'uuid' })
  endpointId: string;

  @Column({ name: 'message_id', type: 'varchar', length: 40 })
  messageId: string;

  @Column({ type: 'varchar', length: 40 })
  type: string;

  @Column({ type: 'int' })
  attempt: number;

  /** The receiver's HTTP status; null when there was no answer (timeout, refused connection, blocked address). */
  @Column({ type: 'int', nullable: true })
  status: number | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  error: string | null;

  @Column({ type: 'timestamptz' })
  at: Date;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;
}
