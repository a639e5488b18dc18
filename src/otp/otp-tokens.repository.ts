import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, IsNull, LessThan, QueryDeepPartialEntity } from 'typeorm';
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
    return this.dataSource.transaction(async (manager) => {
      await manager
        .createQueryBuilder()
        .insert()
        .into(OtpToken)
        .values(token as QueryDeepPartialEntity<OtpToken>)
        .updateEntity(false)
        .execute();
      await this.audit.record(events, manager);
    });
  }

  /** Removes the record of a code that could not be mailed, with the events that say so. */
  recordWithdrawn(id: string, events: AuditRecord[]): Promise<void> {
    return this.dataSource.transaction(async (manager) => {
      await manager.delete(OtpToken, id);
      await this.audit.record(events, manager);
    });
  }

  /** Links every code of a verified login to its user and marks them used, in the sign-in's transaction. */
  async markLoginVerified(loginId: string, userId: string, at: Date, manager: EntityManager): Promise<void> {
    await manager.update(OtpToken, { loginId, consumedAt: IsNull() }, { userId, consumedAt: at });
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
