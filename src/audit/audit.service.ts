import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { Clock } from '../common/clock';
import { ClientContext } from '../common/client-context';
import { PostgresStatements } from '../database/postgres-statements';
import { AuditEvent, AuditEventType } from './audit-event.entity';
import { AUDIT_COLUMNS, auditRowsFrom, auditRowsJson } from './postgres-audit-rows';

export interface AuditRecord {
  type: AuditEventType;
  client?: ClientContext;
  email?: string | null;
  userId?: string | null;
  sessionId?: string | null;
  details?: Record<string, unknown>;
}

export type AuditRow = Pick<
  AuditEvent,
  'at' | 'type' | 'userId' | 'email' | 'ip' | 'userAgent' | 'sessionId' | 'requestId' | 'details'
>;

const MAX_SAMPLED_KEYS = 10_000;
const RECORD_EVENTS = `INSERT INTO audit_events (${AUDIT_COLUMNS}) SELECT ${AUDIT_COLUMNS} FROM ${auditRowsFrom('$1')}`;

/** Appends events to the audit trail; callers pass their transaction so an event commits with what it describes. */
@Injectable()
export class AuditService {
  private readonly statements: PostgresStatements | null;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(Clock) private readonly clock: Clock,
  ) {
    this.statements = PostgresStatements.of(dataSource);
  }

  private readonly lastSampled = new Map<string, number>();

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
    // Outside a caller's transaction, PostgreSQL takes the events as one prepared statement.
    if (!manager && this.statements) {
      await this.statements.run('audit_record', RECORD_EVENTS, [auditRowsJson(this.rowsOf(records))]);
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

  /** The rows `record` inserts, for statements that write events together with other changes. */
  rowsOf(records: AuditRecord[]): AuditRow[] {
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
