import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, IsNull, LessThan, QueryDeepPartialEntity, UpdateQueryBuilder } from 'typeorm';
import { onPostgres, PreparedStatement } from '../database/prepared-statement';
import { RowMapping } from '../database/row-mapping';
import { AuditRecord, AuditService } from '../audit/audit.service';
import { OtpToken } from './otp-token.entity';

interface CodeStatements {
  codes: RowMapping<OtpToken>;
  issued: PreparedStatement;
  withdrawn: PreparedStatement;
}

/** The `otp_tokens` table: the record of every mailed code, written together with its audit events. */
@Injectable()
export class OtpTokensRepository {
  private readonly prepared = new Map<number, CodeStatements>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  /** The code's record and its events, all or nothing. */
  async recordIssued(token: OtpToken, events: AuditRecord[]): Promise<void> {
    if (!onPostgres(this.dataSource)) {
      await this.dataSource.transaction(async (manager) => {
        await manager
          .createQueryBuilder()
          .insert()
          .into(OtpToken)
          .values(token as QueryDeepPartialEntity<OtpToken>)
          .updateEntity(false)
          .execute();
        await this.audit.record(events, manager);
      });
      return;
    }
    const { issued, codes } = this.statements(events.length);
    await issued.run(this.dataSource, [...codes.values(token), ...this.audit.eventValues(events)]);
  }

  /** Removes the record of a code that could not be mailed, with the events that say so. */
  async recordWithdrawn(id: string, events: AuditRecord[]): Promise<void> {
    if (!onPostgres(this.dataSource)) {
      await this.dataSource.transaction(async (manager) => {
        await manager.delete(OtpToken, id);
        await this.audit.record(events, manager);
      });
      return;
    }
    await this.statements(events.length).withdrawn.run(this.dataSource, [id, ...this.audit.eventValues(events)]);
  }

  /** The records of the user's codes: those their sign-ins used, and those mailed to their address. */
  async deleteOfUserWrite(userId: string, email: string, manager: EntityManager): Promise<void> {
    await manager
      .createQueryBuilder()
      .delete()
      .from(OtpToken)
      .where('user_id = :userId OR email = :email', { userId, email })
      .execute();
  }

  /** Links every code of a verified login to its user and marks them used, in the sign-in's transaction. */
  verifiedWrite(loginId: string, userId: string, at: Date, manager: EntityManager): UpdateQueryBuilder<OtpToken> {
    return manager
      .createQueryBuilder(OtpToken, 'token')
      .update()
      .set({ userId, consumedAt: at })
      .where({ loginId, consumedAt: IsNull() })
      .updateEntity(false);
  }

  /**
   * PostgreSQL writes a code's record, or its withdrawal, with its events as one prepared
   * statement written from the entities' mappings: one round trip instead of four.
   */
  private statements(eventCount: number): CodeStatements {
    let statements = this.prepared.get(eventCount);
    if (!statements) {
      const codes = new RowMapping(this.dataSource, OtpToken);
      const insertEvents = (first: number) => this.audit.eventsInsert(eventCount, first).text;
      statements = {
        codes,
        issued: new PreparedStatement(
          `WITH code AS (INSERT INTO ${codes.table} ${codes.columnList} VALUES ${codes.placeholders(1)}) ${insertEvents(1 + codes.parameterCount())}`,
        ),
        withdrawn: new PreparedStatement(
          `WITH code AS (DELETE FROM ${codes.table} WHERE ${codes.column('id')} = $1) ${insertEvents(2)}`,
        ),
      };
      this.prepared.set(eventCount, statements);
    }
    return statements;
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
