import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { ClientContext } from '../common/client-context';
import { decodeCursor, encodeCursor } from '../common/query';
import { Principal } from '../common/principal';
import { AuditEvent, AuditEventType } from './audit-event.entity';
import { AuditFilter, AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';
import { AuditEventResponse, AuditPageResponse } from './dto/audit-event.response';
import { AUDIT_CURSOR, AuditFilterDto, AuditQueryDto } from './dto/audit-query.dto';

const DEFAULT_LIMIT = 50;
const USER_ACTIVITY: AuditEventType[] = ['session.created', 'session.revoked', 'refresh_token.reused'];
const EXPORT_BATCH = 1000;

/** Reading the trail: every read is itself recorded (admin.audit_read). */
@Injectable()
export class AuditQueryService {
  constructor(
    private readonly events: AuditRepository,
    private readonly audit: AuditService,
  ) {}

  async page(query: AuditQueryDto, reader: Principal, client: ClientContext): Promise<AuditPageResponse> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const [beforeId] = (decodeCursor(query.cursor, AUDIT_CURSOR) ?? []) as string[];
    const filter = toFilter(query);
    const events = await this.events.page(filter, beforeId, limit + 1);
    const items = events.slice(0, limit).map(toView);
    await this.recordRead(reader, client, { ...withoutUndefined(query), returned: items.length });
    return { items, nextCursor: events.length > limit ? encodeCursor([items[items.length - 1].id]) : null };
  }

  /** A user's own recent sign-in history, for their dashboard. */
  async recentActivity(userId: string, limit = 10): Promise<AuditEventResponse[]> {
    return (await this.events.page({ userId, types: USER_ACTIVITY }, undefined, limit)).map(toView);
  }

  /** Every event of the user's, oldest first: their copy of the trail (an export of their data). */
  async ofUser(userId: string): Promise<AuditEventResponse[]> {
    const events: AuditEventResponse[] = [];
    let afterId: string | undefined;
    for (;;) {
      const batch = await this.events.batchAfter({ userId }, afterId, EXPORT_BATCH);
      events.push(...batch.map(toView));
      if (batch.length < EXPORT_BATCH) return events;
      afterId = String(batch[batch.length - 1].id);
    }
  }

  /** NDJSON, oldest first, fetched in batches so memory stays flat however long the trail. */
  async export(query: AuditFilterDto, reader: Principal, client: ClientContext): Promise<Readable> {
    const filter = toFilter(query);
    await this.recordRead(reader, client, { ...withoutUndefined(query), export: true });
    const events = this.events;
    return Readable.from(
      (async function* () {
        let afterId: string | undefined;
        for (;;) {
          const batch = await events.batchAfter(filter, afterId, EXPORT_BATCH);
          if (batch.length > 0) yield batch.map((event) => JSON.stringify(toView(event)) + '\n').join('');
          if (batch.length < EXPORT_BATCH) return;
          afterId = String(batch[batch.length - 1].id);
        }
      })(),
    );
  }

  private recordRead(reader: Principal, client: ClientContext, details: Record<string, unknown>): Promise<void> {
    return this.audit.record([
      {
        type: 'admin.audit_read',
        userId: reader.userId,
        email: reader.email,
        sessionId: reader.sessionId,
        client,
        details: { reader: reader.subject, ...details },
      },
    ]);
  }
}

function toFilter(query: AuditFilterDto): AuditFilter {
  return {
    type: query.type,
    email: query.email,
    userId: query.userId,
    since: query.since ? new Date(query.since) : undefined,
    until: query.until ? new Date(query.until) : undefined,
  };
}

function toView(event: AuditEvent): AuditEventResponse {
  return {
    id: String(event.id),
    type: event.type,
    at: new Date(event.at).toISOString(),
    userId: event.userId,
    email: event.email,
    ip: event.ip,
    userAgent: event.userAgent,
    sessionId: event.sessionId,
    requestId: event.requestId,
    details: typeof event.details === 'string' ? (JSON.parse(event.details) as Record<string, unknown>) : event.details,
  };
}

function withoutUndefined(query: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([key, value]) => value !== undefined && key !== 'cursor'));
}
