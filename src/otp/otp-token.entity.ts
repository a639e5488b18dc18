import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { User } from '../users/user.entity';

/**
 * A code that was mailed. The code itself is never stored: only its HMAC keyed by SECRET_KEY.
 * Rows exist for the record and for cleanup; the OTP store decides whether a code is accepted.
 */
@Entity('otp_tokens')
export class OtpToken {
  @PrimaryColumn('uuid')
  id: string;

  /** Set when the login is verified: the user may not exist before that. */
  @ManyToOne('User', (user: User) => user.otpTokens, { nullable: true, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User | null;

  @Index('idx_otp_tokens_user_id')
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId: string | null;

  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Index('idx_otp_tokens_login_id')
  @Column({ name: 'login_id', type: 'varchar', length: 64 })
  loginId: string;

  @Column({ name: 'code_hash', type: 'varchar', length: 64 })
  codeHash: string;

  @Index('idx_otp_tokens_expires_at')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'consumed_at', type: 'timestamptz', nullable: true })
  consumedAt: Date | null;
}
