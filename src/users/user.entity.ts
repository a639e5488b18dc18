import { Column, Entity, OneToMany, PrimaryColumn } from 'typeorm';
import type { OtpToken } from '../otp/otp-token.entity';

export type FormData = Record<string, unknown>;

@Entity('users')
export class User {
  @PrimaryColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 254, unique: true })
  email: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  name: string | null;

  @Column({ name: 'last_submitted_form_data', type: 'jsonb', nullable: true })
  lastSubmittedFormData: FormData | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'last_login_at', type: 'timestamptz', nullable: true })
  lastLoginAt: Date | null;

  @OneToMany('OtpToken', (token: OtpToken) => token.user)
  otpTokens?: OtpToken[];
}
