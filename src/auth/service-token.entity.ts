import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A service token minted by the operator, by its `jti`: what `token revoke` names and marks. */
@Entity('service_tokens')
export class ServiceToken {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  jti: string;

  /** `service:<name>`, the token's `sub`. */
  @Column({ type: 'varchar', length: 72 })
  subject: string;

  @Column({ type: 'varchar', length: 255 })
  scope: string;

  @Column({ name: 'issued_at', type: 'timestamptz' })
  issuedAt: Date;

  @Index('idx_service_tokens_expires_at')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
