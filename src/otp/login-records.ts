import { FactoryProvider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditRecord, AuditService } from '../audit/audit.service';
import { Session } from '../auth/session.entity';
import { SessionsRepository } from '../auth/sessions.repository';
import { PostgresStatements } from '../database/postgres-statements';
import { User } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import { OtpToken } from './otp-token.entity';
import { OtpTokensRepository } from './otp-tokens.repository';
import { PostgresLoginRecords } from './postgres-login-records';
import { TransactionalLoginRecords } from './transactional-login-records';

export interface SignInRecord {
  email: string;
  loginId: string;
  at: Date;
  /** The new session, for the user the sign-in finds or creates. */
  session: Omit<Session, 'userId'>;
  /** Events of the sign-in; each gets the user's id. */
  events: AuditRecord[];
}

/**
 * What a login writes to the database, each step all or nothing: the record of an issued code
 * with its events (or of its withdrawal), and a sign-in (user, session, codes marked used, events).
 */
export abstract class LoginRecords {
  abstract recordIssued(token: OtpToken, events: AuditRecord[]): Promise<void>;

  /** Removes the record of a code that could not be mailed, with the events that say so. */
  abstract recordWithdrawn(tokenId: string, events: AuditRecord[]): Promise<void>;

  abstract recordSignIn(signIn: SignInRecord): Promise<{ user: User; session: Session }>;
}

/** PostgreSQL writes each step as one statement; other engines as a transaction of several. */
export const LOGIN_RECORDS_PROVIDER: FactoryProvider<LoginRecords> = {
  provide: LoginRecords,
  inject: [DataSource, AuditService, UsersRepository, SessionsRepository, OtpTokensRepository],
  useFactory: (
    dataSource: DataSource,
    audit: AuditService,
    users: UsersRepository,
    sessions: SessionsRepository,
    otpTokens: OtpTokensRepository,
  ) => {
    const statements = PostgresStatements.of(dataSource);
    return statements
      ? new PostgresLoginRecords(statements, audit)
      : new TransactionalLoginRecords(dataSource, audit, users, sessions, otpTokens);
  },
};
