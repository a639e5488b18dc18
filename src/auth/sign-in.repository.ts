import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditRecord, AuditService } from '../audit/audit.service';
import { ClientContext, clientIdOf } from '../common/client-context';
import { onPostgres, entityFromRow, PreparedStatement } from '../database/prepared-statement';
import { RowMapping } from '../database/row-mapping';
import { OtpToken } from '../otp/otp-token.entity';
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

const BY_SIGNED_IN_USER = { userId: '(SELECT id FROM signed_in)' };

/**
 * What a sign-in writes, all or nothing: the user created or stamped, the session, the login's
 * codes marked used, and their audit events. Other engines run the owners' writes in a
 * transaction. PostgreSQL runs them as one prepared statement written from the owners' entity
 * mappings: one round trip instead of six, and no query building per sign-in (together more
 * than half of a verification's CPU: docs/architecture/0002-prepared-statements-on-postgresql.md).
 */
@Injectable()
export class SignInRepository {
  private statement?: {
    text: PreparedStatement;
    users: RowMapping<User>;
    sessions: RowMapping<Session>;
  };

  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly otp: OtpService,
    private readonly sessions: SessionsRepository,
    private readonly audit: AuditService,
  ) {}

  async record({ login, session, client }: SignInRecord): Promise<{ user: User; session: Session }> {
    const at = session.createdAt;
    const events = (userId: string | null): AuditRecord[] => [
      this.otp.verifiedEvent(login, { userId, sessionId: session.id, client }),
      {
        type: 'session.created',
        email: login.email,
        userId,
        sessionId: session.id,
        client,
        details: { method: 'otp', ...clientIdOf(client) },
      },
    ];
    if (onPostgres(this.dataSource)) {
      const statement = this.combined();
      const [row] = await statement.text.run<Record<string, unknown>>(this.dataSource, [
        ...statement.users.values(this.users.newSignIn(login.email, at)),
        ...statement.sessions.values(session, BY_SIGNED_IN_USER),
        ...this.audit.eventValues(events(null), BY_SIGNED_IN_USER),
        at,
        login.loginId,
      ]);
      const user = entityFromRow(this.dataSource.manager, User, row);
      return { user, session: { ...session, userId: user.id } };
    }
    return this.dataSource.transaction(async (manager) => {
      const user = await this.users.recordSignIn(login.email, at, manager);
      await this.sessions.insert({ ...session, userId: user.id }, manager);
      await this.otp.verifiedWrite(login, user.id, at, manager).execute();
      await this.audit.record(events(user.id), manager);
      return { user, session: { ...session, userId: user.id } };
    });
  }

  /** Written once: its text depends only on the entities' mappings. */
  private combined() {
    if (this.statement) return this.statement;
    const users = new RowMapping(this.dataSource, User);
    const sessions = new RowMapping(this.dataSource, Session);
    const codes = new RowMapping(this.dataSource, OtpToken);
    let next = 1;
    const take = (placeholders: string, count: number) => ((next += count), placeholders);
    const user = take(users.placeholders(next), users.parameterCount());
    const newSession = take(sessions.placeholders(next, BY_SIGNED_IN_USER), sessions.parameterCount(BY_SIGNED_IN_USER));
    const insertEvents = this.audit.eventsInsert(2, next, BY_SIGNED_IN_USER);
    next += insertEvents.parameterCount;
    const [at, loginId] = [`$${next}`, `$${next + 1}`];
    const lastLoginAt = users.column('lastLoginAt');
    const updatedAt = users.column('updatedAt');
    const text = new PreparedStatement(
      `WITH signed_in AS (
        INSERT INTO ${users.table} ${users.columnList} VALUES ${user}
        ON CONFLICT (${users.column('email')}) DO UPDATE SET ${lastLoginAt} = EXCLUDED.${lastLoginAt}, ${updatedAt} = EXCLUDED.${updatedAt}
        RETURNING *
      ), new_session AS (
        INSERT INTO ${sessions.table} ${sessions.columnList} VALUES ${newSession}
      ), used_codes AS (
        UPDATE ${codes.table} SET ${codes.column('userId')} = ${BY_SIGNED_IN_USER.userId}, ${codes.column('consumedAt')} = ${at}
        WHERE ${codes.column('loginId')} = ${loginId} AND ${codes.column('consumedAt')} IS NULL
      ), events AS (
        ${insertEvents.text}
      )
      SELECT * FROM signed_in`,
    );
    this.statement = { text, users, sessions };
    return this.statement;
  }
}
