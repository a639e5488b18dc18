import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditRecord, AuditService } from '../audit/audit.service';
import { SessionsService } from '../auth/sessions.service';
import { OtpService } from '../otp/otp.service';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';

/** An account's deletion, all or nothing: each owner's write in one transaction with its audit event. */
@Injectable()
export class AccountRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly otp: OtpService,
    private readonly audit: AuditService,
  ) {}

  /**
   * Moves the user to the new address with the event that says so, all or nothing. Two changes
   * (or a change and a first sign-in) racing for one address: the unique index lets one win, and
   * the other answers 'taken'.
   */
  async changeEmail(
    userId: string,
    email: string,
    at: Date,
    events: AuditRecord[],
  ): Promise<'changed' | 'taken' | 'gone'> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const outcome = await this.users.changeEmailWrite(userId, email, at, manager);
        if (outcome === 'changed') await this.audit.record(events, manager);
        return outcome;
      });
    } catch (error) {
      if (isUniqueViolation(error)) return 'taken';
      throw error;
    }
  }

  /**
   * Deletes the user, their sessions and code records; answers the ids of the sessions deleted
   * (null when the user was gone already). The user's row is locked first, so a sign-in racing
   * the deletion either commits its session before the ids are read, or waits and makes a new user.
   */
  deleteUser(user: User, at: Date, events: AuditRecord[]): Promise<string[] | null> {
    return this.dataSource.transaction(async (manager) => {
      if (!(await this.users.lockForDeletion(user.id, at, manager))) return null;
      const sessionIds = await this.sessions.idsOfUserWrite(user.id, manager);
      await this.otp.deleteRecordsWrite(user.id, user.email, manager);
      await this.users.deleteWrite(user.id, manager);
      await this.audit.record(events, manager);
      return sessionIds;
    });
  }
}

/** PostgreSQL's unique_violation, or SQLite's UNIQUE constraint failure. */
function isUniqueViolation(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: string } }).driverError;
  return driverError?.code === '23505' || driverError?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}
