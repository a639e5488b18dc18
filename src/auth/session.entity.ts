import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { User } from '../users/user.entity';

/** A sign-in: what access tokens name as `sid` and refresh tokens renew. */
@Entity('sessions')
export class Session {
  @PrimaryColumn('uuid')
  id: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Index('idx_sessions_user_id')
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  /**
   * HMAC of the current refresh token's secret. Each rotation derives the next secret from the
   * previous one, so an older token of this session is recognised (reuse) without storing it.
   */
  @Column({ name: 'refresh_token_hash', type: 'varchar', length: 64 })
  refreshTokenHash: string;

  /** When the refresh token was last rotated: the start of the concurrent-refresh grace. */
  @Column({ name: 'refreshed_at', type: 'timestamptz', nullable: true })
  refreshedAt: Date | null;

  @Column({ name: 'refresh_expires_at', type: 'timestamptz' })
  refreshExpiresAt: Date;

  /** Absolute end, however often the session is refreshed. */
  @Index('idx_sessions_expires_at')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz' })
  lastUsedAt: Date;

  @Column({ type: 'varchar', length: 45 })
  ip: string;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
