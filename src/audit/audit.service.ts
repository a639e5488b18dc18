import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager, QueryDeepPartialEntity } from 'typeorm';
import { Clock } from '../common/clock';
import { ClientContext } from '../common/client-context';
import { onPostgres, PreparedStatement } from '../database/prepared-statement';
import { RowMapping } from '../database/row-mapping';
import { AuditEvent, AuditEventType } from './audit-event.entity';

/** Columns whose value a statement gives as SQL, e.g. a user id from an earlier CTE. */
export type ColumnsAsSql = Partial<Record<'userId' | 'sessionId', string>>;

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
  /** Outside a transaction, PostgreSQL takes the events as one prepared statement per number of events. */
  private readonly inserts = new Map<number, PreparedStatement>();
  private events?: RowMapping<AuditEvent>;

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
      let statement = this.inserts.get(records.length);
      if (!statement)
        this.inserts.set(
          records.length,
          (statement = new PreparedStatement(this.eventsInsert(records.length, 1).text)),
        );
      await statement.run(this.dataSource, this.eventValues(records));
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

  /**
   * For a statement that writes events together with what they describe: the INSERT of `count`
   * events with parameters from `first` on, the columns in `sql` given as SQL instead.
   */
  eventsInsert(count: number, first: number, sql: ColumnsAsSql = {}): { text: string; parameterCount: number } {
    const events = this.mapping();
    const perRow = events.parameterCount(sql);
    const rows = Array.from({ length: count }, (_, i) => events.placeholders(first + i * perRow, sql));
    return {
      text: `INSERT INTO ${events.table} ${events.columnList} VALUES ${rows.join(', ')}`,
      parameterCount: count * perRow,
    };
  }

  /** The parameters of `eventsInsert` for these events. */
  eventValues(records: AuditRecord[], sql: ColumnsAsSql = {}): unknown[] {
    return this.rowsOf(records).flatMap((row) => this.mapping().values(row, sql));
  }

  private mapping(): RowMapping<AuditEvent> {
    return (this.events ??= new RowMapping(this.dataSource, AuditEvent));
  }

  private rowsOf(records: AuditRecord[]) {
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
