import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One record of the OpenID Provider's state (a session, an interaction, a code, a token, a
 * grant...), shared by every instance. For opaque tokens the id is the token itself, so ids and
 * the values looked up by are stored only as keyed hashes, and the payload only sealed.
 */
@Entity('oidc_payloads')
export class OidcPayload {
  /** oidc-provider's model name: Session, AuthorizationCode, Grant... */
  @PrimaryColumn({ type: 'varchar', length: 40 })
  model: string;

  /** Keyed hash of the record's id. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  key: string;

  /** The JSON payload, sealed. */
  @Column({ type: 'text' })
  payload: string;

  /** Keyed hash of the grant a code or token belongs to: revoking the grant deletes them all. */
  @Index('idx_oidc_payloads_grant_key')
  @Column({ name: 'grant_key', type: 'varchar', length: 64, nullable: true })
  grantKey: string | null;

  /** Keyed hash of a session's uid. */
  @Index('idx_oidc_payloads_uid_key')
  @Column({ name: 'uid_key', type: 'varchar', length: 64, nullable: true })
  uidKey: string | null;

  /** Keyed hash of a device flow's user code. */
  @Index('idx_oidc_payloads_user_code_key')
  @Column({ name: 'user_code_key', type: 'varchar', length: 64, nullable: true })
  userCodeKey: string | null;

  /** Past it the record is treated as absent, and the cleanup job deletes it. */
  @Index('idx_oidc_payloads_expires_at')
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'consumed_at', type: 'timestamptz', nullable: true })
  consumedAt: Date | null;
}
