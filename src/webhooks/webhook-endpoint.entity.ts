import { Column, Entity, PrimaryColumn } from 'typeorm';
import { WebhookEventType } from './webhook-event-types';

/** A receiver registered by an admin, with the events it subscribed to. */
@Entity('webhook_endpoints')
export class WebhookEndpoint {
  @PrimaryColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 2000 })
  url: string;

  @Column({ type: 'jsonb' })
  events: WebhookEventType[];

  /** The `whsec_…` signing secret, sealed (`Secrets.seal('webhook-secret', …)`): signing needs the plaintext. */
  @Column({ name: 'secret_sealed', type: 'text' })
  secretSealed: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
