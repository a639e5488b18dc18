import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const AUDIT_EVENT_TYPES = [
  'otp.requested',
  'otp.sent',
  'otp.send_failed',
  'otp.verified',
  'otp.failed',
  'otp.locked',
  'session.created',
  'session.refreshed',
  'session.revoked',
  'refresh_token.reused',
  'rate_limit.hit',
  'admin.audit_read',
  'otp.cleanup',
  'client.created',
  'client.removed',
  'oidc.authorized',
  'user.email_changed',
  'user.deleted',
  'webhook.created',
  'webhook.removed',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** Insert-only: nothing in the service changes a row, or deletes one but retention. */
@Entity('audit_events')
@Index('idx_audit_events_type_id', ['type', 'id'])
@Index('idx_audit_events_email_id', ['email', 'id'])
@Index('idx_audit_events_user_id_id', ['userId', 'id'])
export class AuditEvent {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Index('idx_audit_events_at')
  @Column({ type: 'timestamptz' })
  at: Date;

  @Column({ type: 'varchar', length: 40 })
  type: AuditEventType;

  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId: string | null;

  @Column({ type: 'varchar', length: 254, nullable: true })
  email: string | null;

  @Column({ type: 'varchar', length: 45, nullable: true })
  ip: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;

  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId: string | null;

  @Column({ type: 'jsonb' })
  details: Record<string, unknown>;

  /** Position in the chain of events sealed one by one, before rounds (`AuditSeal`); null since. */
  @Index('idx_audit_events_chain_index', { unique: true, where: 'chain_index IS NOT NULL' })
  @Column({ name: 'chain_index', type: 'bigint', nullable: true })
  chainIndex: string | null;

  /** Before rounds: HMAC over this event's content and the previous seal. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  seal: string | null;
}
