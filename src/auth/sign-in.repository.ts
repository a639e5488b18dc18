import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { ClientContext } from '../common/client-context';
import { OtpService, VerifiedLogin } from '../otp/otp.service';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { Session } from './session.entity';
import { SessionsRepository } from './sessions.repository';

export interface SignInRecord {
  login: VerifiedLogin;
  /** The new session, for the user the sign-in finds or creates. */
  session: Omit<Session, 'userId'>;
  client: ClientContext;
}

/**
 * What a sign-in writes, in one transaction: the user created or stamped, the session, the
 * login's codes marked used, and their audit events. Each table is written by its owner.
 */
@Injectable()
export class SignInRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly otp: OtpService,
    private readonly sessions: SessionsRepository,
    private readonly audit: AuditService,
  ) {}

  record({ login, session: newSession, client }: SignInRecord): Promise<{ user: User; session: Session }> {
    const at = newSession.createdAt;
    return this.dataSource.transaction(async (manager) => {
      const user = await this.users.recordSignIn(login.email, at, manager);
      const session = { ...newSession, userId: user.id };
      await this.sessions.insert(session, manager);
      await this.otp.recordVerified(login, { userId: user.id, sessionId: session.id, at, client }, manager);
      await this.audit.record(
        [
          {
            type: 'session.created',
            email: user.email,
            userId: user.id,
            sessionId: session.id,
            client,
            details: { method: 'otp' },
          },
        ],
        manager,
      );
      return { user, session };
    });
  }
}
