import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One sealing round: the events it covers, in sealing order, and an HMAC over them and the round
 * before. Only ever inserted; retention deletes the oldest. Events themselves are never updated.
 */
@Entity('audit_seals')
export class AuditSeal {
  /** 1, 2, 3…: the primary key lets only one instance seal each round. */
  @PrimaryColumn({ type: 'bigint' })
  round: string;

  @Column({ name: 'sealed_at', type: 'timestamptz' })
  sealedAt: Date;

  /** Which SECRET_KEY made the MAC (`Secrets.auditKeyId`). */
  @Column({ name: 'key_id', type: 'varchar', length: 16 })
  keyId: string;

  /** The event ids, ascending, as ranges: `101-600,604`. */
  @Column({ type: 'text' })
  events: string;

  @Column({ name: 'event_count', type: 'integer' })
  eventCount: number;

  /** Every id up to here is sealed by this round or an earlier one, except those `waiting`. */
  @Column({ type: 'bigint' })
  horizon: string;

  /**
   * Ids below the horizon with no committed event yet: transactions still open, or rolled back.
   * JSON `[[from, to, sinceMs], …]`; a late commit among them is sealed by a later round.
   */
  @Column({ type: 'text' })
  waiting: string;

  @Column({ type: 'varchar', length: 64 })
  mac: string;

  /**
   * 8 hex digits of each event's SHA-256, in order: not part of the MAC, only there to name the
   * event that was changed when the MAC does not match.
   */
  @Column({ type: 'text' })
  fingerprints: string;
}
