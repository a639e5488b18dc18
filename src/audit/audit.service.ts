import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager, InsertQueryBuilder, QueryDeepPartialEntity } from 'typeorm';
import { WriteValue } from '../database/combined-statement';
import { Clock } from '../common/clock';
import { ClientContext } from '../common/client-context';
import { AuditEvent, AuditEventType } from './audit-event.entity';

export interface AuditRecord {
  type: AuditEventType;
  client?: ClientContext;
  email?: string | null;
  userId?: WriteValue<string> | null;
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
    await this.insertWrite(records, manager ?? this.dataSource.manager).execute();
  }

  /** The insert of `record`, not yet run, for a statement that combines it with others. */
  insertWrite(records: AuditRecord[], manager: EntityManager): InsertQueryBuilder<AuditEvent> {
    return manager
      .createQueryBuilder()
      .insert()
      .into(AuditEvent)
      .values(this.rowsOf(records) as QueryDeepPartialEntity<AuditEvent>[])
      .updateEntity(false);
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
