import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager, QueryDeepPartialEntity } from 'typeorm';
import { Clock } from '../common/clock';
import { ClientContext } from '../common/client-context';
import { onPostgres, PreparedStatement } from '../database/prepared-statement';
import { RowMapping } from '../database/row-mapping';
import { AuditEvent, AuditEventType } from './audit-event.entity';

export interface AuditRecord {
  type: AuditEventType;
  client?: ClientContext;
  email?: string | null;
  userId?: string | null;
  sessionId?: string | null;
  details?: Record<string, unknown>;
}

const MAX_SAMPLED_KEYS = 10_000;

/** Appends events to the audit trail; callers pass their transaction so an event commits with what it describes. */
@Injectable()
export class AuditService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  private readonly lastSampled = new Map<string, number>();
  private readonly inserts = new Map<number, { statement: PreparedStatement; events: RowMapping<AuditEvent> }>();

  /**
   * Records the event unless one with the same key was recorded within the window: how refusals
   * are audited without letting a flood of them fill the table.
   */
  async recordSampled(key: string, windowMs: number, record: AuditRecord): Promise<void> {
    const now = this.clock.now();
    const last = this.lastSampled.get(key);
    if (last !== undefined && now - last < windowMs) return;
    this.lastSampled.delete(key);
    this.lastSampled.set(key, now);
    if (this.lastSampled.size > MAX_SAMPLED_KEYS) this.lastSampled.delete(this.lastSampled.keys().next().value!);
    await this.record([record]);
  }

  async record(records: AuditRecord[], manager?: EntityManager): Promise<void> {
    if (records.length === 0) return;
    if (!manager && onPostgres(this.dataSource)) {
      const { statement, events } = this.insertOf(records.length);
      await statement.run(
        this.dataSource,
        this.rowsOf(records).flatMap((row) => events.values(row)),
      );
      return;
    }
    await (manager ?? this.dataSource.manager)
      .createQueryBuilder()
      .insert()
      .into(AuditEvent)
      .values(this.rowsOf(records) as QueryDeepPartialEntity<AuditEvent>[])
      .updateEntity(false)
      .execute();
  }

  /** Outside a transaction, PostgreSQL takes the events as one prepared statement per number of events. */
  private insertOf(count: number): { statement: PreparedStatement; events: RowMapping<AuditEvent> } {
    let insert = this.inserts.get(count);
    if (!insert) {
      const events = new RowMapping(this.dataSource, AuditEvent);
      const rows = Array.from({ length: count }, (_, i) => events.placeholders(1 + i * events.parameterCount()));
      insert = {
        events,
        statement: new PreparedStatement(`INSERT INTO ${events.table} ${events.columnList} VALUES ${rows.join(', ')}`),
      };
      this.inserts.set(count, insert);
    }
    return insert;
  }

  /** The rows `record` inserts, for a statement that writes them together with what they describe. */
  rowsOf(records: AuditRecord[]) {
    const at = new Date(this.clock.now());
    return records.map((record) => ({
      at,
      type: record.type,
      userId: record.userId ?? null,
      email: record.email ?? null,
      ip: record.client?.ip ?? null,
      userAgent: record.client?.userAgent ?? null,
      sessionId: record.sessionId ?? null,
      requestId: record.client?.requestId ?? null,
      details: record.details ?? {},
    }));
  }
}
