import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, IsNull, LessThan, QueryDeepPartialEntity, UpdateQueryBuilder } from 'typeorm';
import { combinesWrites, runCombined, Write, WriteValue } from '../database/combined-statement';
import { AuditRecord, AuditService } from '../audit/audit.service';
import { OtpToken } from './otp-token.entity';

/** The `otp_tokens` table: the record of every mailed code, written together with its audit events. */
@Injectable()
export class OtpTokensRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  /** The code's record and its events, all or nothing. */
  recordIssued(token: OtpToken, events: AuditRecord[]): Promise<void> {
    return this.writeWithEvents(
      (manager) =>
        manager
          .createQueryBuilder()
          .insert()
          .into(OtpToken)
          .values(token as QueryDeepPartialEntity<OtpToken>)
          .updateEntity(false),
      events,
    );
  }

  /** Removes the record of a code that could not be mailed, with the events that say so. */
  recordWithdrawn(id: string, events: AuditRecord[]): Promise<void> {
    return this.writeWithEvents(
      (manager) => manager.createQueryBuilder().delete().from(OtpToken).where({ id }),
      events,
    );
  }

  /** One statement on PostgreSQL (a third of the round trips of a transaction), a transaction elsewhere. */
  private async writeWithEvents(write: (manager: EntityManager) => Write, events: AuditRecord[]): Promise<void> {
    if (combinesWrites(this.dataSource)) {
      const manager = this.dataSource.manager;
      await runCombined(manager, [
        { name: 'code', write: write(manager) },
        { name: 'events', write: this.audit.insertWrite(events, manager) },
      ]);
      return;
    }
    await this.dataSource.transaction(async (manager) => {
      await write(manager).execute();
      await this.audit.record(events, manager);
    });
  }

  /** Links every code of a verified login to its user and marks them used: a write of the sign-in, not yet run. */
  verifiedWrite(
    loginId: string,
    userId: WriteValue<string>,
    at: Date,
    manager: EntityManager,
  ): UpdateQueryBuilder<OtpToken> {
    return manager
      .createQueryBuilder(OtpToken, 'token')
      .update()
      .set({ userId, consumedAt: at })
      .where({ loginId, consumedAt: IsNull() })
      .updateEntity(false);
  }

  /** Deletes up to `batch` codes that expired before `before`; returns how many. */
  async deleteExpired(before: Date, batch: number): Promise<number> {
    const rows = await this.dataSource.manager.find(OtpToken, {
      select: { id: true },
      where: { expiresAt: LessThan(before) },
      take: batch,
    });
    if (rows.length > 0)
      await this.dataSource.manager.delete(
        OtpToken,
        rows.map((row) => row.id),
      );
    return rows.length;
  }
}
