import { DataSource } from 'typeorm';
import { AuditRecord, AuditService } from '../audit/audit.service';
import { Session } from '../auth/session.entity';
import { SessionsRepository } from '../auth/sessions.repository';
import { User } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import type { LoginRecords, SignInRecord } from './login-records';
import { OtpToken } from './otp-token.entity';
import { OtpTokensRepository } from './otp-tokens.repository';

/** Login records through the repositories, in one transaction per step (the SQLite path). */
export class TransactionalLoginRecords implements LoginRecords {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly users: UsersRepository,
    private readonly sessions: SessionsRepository,
    private readonly otpTokens: OtpTokensRepository,
  ) {}

  async recordIssued(token: OtpToken, events: AuditRecord[]): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.otpTokens.insert(token, manager);
      await this.audit.record(events, manager);
    });
  }

  async recordWithdrawn(tokenId: string, events: AuditRecord[]): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.otpTokens.delete(tokenId, manager);
      await this.audit.record(events, manager);
    });
  }

  recordSignIn({
    email,
    loginId,
    at,
    session: newSession,
    events,
  }: SignInRecord): Promise<{ user: User; session: Session }> {
    return this.dataSource.transaction(async (manager) => {
      const user = await this.users.upsertSignIn(email, at, manager);
      const session = { ...newSession, userId: user.id };
      await this.sessions.insert(session, manager);
      await this.otpTokens.markLoginVerified(loginId, user.id, at, manager);
      await this.audit.record(
        events.map((event) => ({ ...event, userId: user.id })),
        manager,
      );
      return { user, session };
    });
  }
}
