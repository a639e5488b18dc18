import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditRecord, AuditService } from '../audit/audit.service';
import { ClientContext } from '../common/client-context';
import {
  combinesWrites,
  entityFromRow,
  fromEarlierWrite,
  runCombined,
  WriteValue,
} from '../database/combined-statement';
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
 * What a sign-in writes, all or nothing: the user created or stamped, the session, the login's
 * codes marked used, and their audit events. Each write is built by the module that owns its
 * table. PostgreSQL runs them as one statement (one round trip instead of a transaction of six:
 * about half the CPU of a verification, docs/performance.md); other engines as a transaction.
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

  async record({ login, session: newSession, client }: SignInRecord): Promise<{ user: User; session: Session }> {
    const at = newSession.createdAt;
    const manager = this.dataSource.manager;
    if (combinesWrites(this.dataSource)) {
      const userId = fromEarlierWrite('signed_in', 'id');
      const [row] = await runCombined(
        manager,
        [
          { name: 'signed_in', write: this.users.signInWrite(login.email, at, manager).returning('*') },
          ...this.writesAfterUser(userId, login, newSession, client, manager),
        ],
        'signed_in',
      );
      const user = entityFromRow(manager, User, row);
      return { user, session: { ...newSession, userId: user.id } };
    }
    return this.dataSource.transaction(async (transaction) => {
      const user = await this.users.recordSignIn(login.email, at, transaction);
      for (const { write } of this.writesAfterUser(user.id, login, newSession, client, transaction))
        await write.execute();
      return { user, session: { ...newSession, userId: user.id } };
    });
  }

  private writesAfterUser(
    userId: WriteValue<string>,
    login: VerifiedLogin,
    session: Omit<Session, 'userId'>,
    client: ClientContext,
    manager: EntityManager,
  ) {
    const events: AuditRecord[] = [
      this.otp.verifiedEvent(login, { userId, sessionId: session.id, client }),
      {
        type: 'session.created',
        email: login.email,
        userId,
        sessionId: session.id,
        client,
        details: { method: 'otp' },
      },
    ];
    return [
      { name: 'new_session', write: this.sessions.insertWrite({ ...session, userId }, manager) },
      { name: 'used_codes', write: this.otp.verifiedWrite(login, userId, session.createdAt, manager) },
      { name: 'events', write: this.audit.insertWrite(events, manager) },
    ];
  }
}
