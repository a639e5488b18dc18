import { Injectable } from '@nestjs/common';
import { AuditRecord, AuditService } from '../audit/audit.service';
import { DataSource, In, IsNull, LessThanOrEqual, Not, QueryDeepPartialEntity } from 'typeorm';
import { WebhookAttempt } from './webhook-attempt.entity';
import { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { WebhookEvent } from './webhook-event.entity';

/** A delivery due now, with what its attempt needs. */
export interface DueDelivery {
  delivery: WebhookDelivery;
  event: WebhookEvent;
  endpoint: WebhookEndpoint;
}

/** The endpoints, the outbox and the deliveries; the outbox rows themselves are written by triggers. */
@Injectable()
export class WebhooksRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async insertEndpoint(endpoint: WebhookEndpoint, event: AuditRecord): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.insert(WebhookEndpoint, endpoint);
      await this.audit.record([event], manager);
    });
  }

  findEndpoint(id: string): Promise<WebhookEndpoint | null> {
    return this.dataSource.manager.findOneBy(WebhookEndpoint, { id });
  }

  /** Oldest first. */
  listEndpoints(): Promise<WebhookEndpoint[]> {
    return this.dataSource.manager.find(WebhookEndpoint, { order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Removes the endpoint with its pending deliveries and history; null when there was none. */
  deleteEndpoint(id: string, event: (endpoint: WebhookEndpoint) => AuditRecord): Promise<WebhookEndpoint | null> {
    return this.dataSource.transaction(async (manager) => {
      const endpoint = await manager.findOneBy(WebhookEndpoint, { id });
      if (!endpoint) return null;
      const { affected } = await manager.delete(WebhookEndpoint, { id });
      if (!affected) return null;
      await this.audit.record([event(endpoint)], manager);
      return endpoint;
    });
  }

  /**
   * Turns up to `limit` undispatched events into one delivery per endpoint subscribed when the
   * event happened (and still registered), all in one transaction; a delivery that exists already is kept (a repeated dispatch
   * changes nothing). Returns how many events it dispatched.
   */
  async dispatch(limit: number, at: Date, newMessageId: () => string): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const events = await manager.find(WebhookEvent, {
        where: { dispatched: false },
        order: { id: 'ASC' },
        take: limit,
      });
      if (events.length === 0) return 0;
      const endpoints = await manager.find(WebhookEndpoint);
      const deliveries = events.flatMap((event) =>
        endpoints
          .filter((endpoint) => endpoint.events.includes(event.type) && endpoint.createdAt <= event.at)
          .map((endpoint): Omit<WebhookDelivery, 'id'> => ({
            messageId: newMessageId(),
            eventId: event.id,
            endpointId: endpoint.id,
            attempts: 0,
            nextAttemptAt: at,
            deliveredAt: null,
          })),
      );
      if (deliveries.length > 0)
        await manager
          .createQueryBuilder()
          .insert()
          .into(WebhookDelivery)
          .values(deliveries as QueryDeepPartialEntity<WebhookDelivery>[])
          .orIgnore()
          .execute();
      await manager.update(WebhookEvent, { id: In(events.map((event) => event.id)) }, { dispatched: true });
      return events.length;
    });
  }

  /** Deliveries whose next attempt is due at `now`, soonest first. */
  async due(now: Date, limit: number): Promise<DueDelivery[]> {
    const deliveries = await this.dataSource.manager.find(WebhookDelivery, {
      where: { nextAttemptAt: LessThanOrEqual(now) },
      relations: { event: true, endpoint: true },
      order: { nextAttemptAt: 'ASC', id: 'ASC' },
      take: limit,
    });
    return deliveries.map(({ event, endpoint, ...delivery }) => ({ delivery, event: event!, endpoint: endpoint! }));
  }

  /**
   * Takes the delivery's next attempt: counts it and moves its next attempt to `leaseUntil`, so
   * if this instance dies mid-attempt the delivery is tried again then. False when another
   * instance took it first.
   */
  async claim(delivery: WebhookDelivery, now: Date, leaseUntil: Date): Promise<boolean> {
    const { affected } = await this.dataSource.manager.update(
      WebhookDelivery,
      { id: delivery.id, attempts: delivery.attempts, nextAttemptAt: LessThanOrEqual(now) },
      { attempts: delivery.attempts + 1, nextAttemptAt: leaseUntil },
    );
    return (affected ?? 0) > 0;
  }

  /** Records an attempt's outcome: the history row, and when (if ever) the delivery is tried next. */
  async settle(attempt: Omit<WebhookAttempt, 'id'>, deliveredAt: Date | null): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.update(
        WebhookDelivery,
        { id: attempt.deliveryId },
        { nextAttemptAt: attempt.nextAttemptAt, deliveredAt },
      );
      await manager.insert(WebhookAttempt, attempt as QueryDeepPartialEntity<WebhookAttempt>);
    });
  }

  /** The endpoint's attempts, newest first. */
  attempts(endpointId: string, limit: number): Promise<WebhookAttempt[]> {
    return this.dataSource.manager.find(WebhookAttempt, {
      where: { endpointId },
      order: { id: 'DESC' },
      take: limit,
    });
  }

  /**
   * Deletes up to `batch` events older than `cutoff` that no endpoint waits for any more, with
   * their deliveries and history; returns how many.
   */
  async deleteSettledBefore(cutoff: Date, batch: number): Promise<number> {
    const rows = await this.dataSource.manager
      .createQueryBuilder(WebhookEvent, 'event')
      .select('event.id', 'id')
      .where('event.dispatched = :dispatched AND event.at < :cutoff', { dispatched: true, cutoff })
      .andWhere(
        'NOT EXISTS (SELECT 1 FROM webhook_deliveries delivery WHERE delivery.event_id = event.id AND delivery.next_attempt_at IS NOT NULL)',
      )
      .orderBy('event.id', 'ASC')
      .limit(batch)
      .getRawMany<{ id: string | number }>();
    if (rows.length === 0) return 0;
    await this.dataSource.manager.delete(
      WebhookEvent,
      rows.map((row) => String(row.id)),
    );
    return rows.length;
  }

  /** When the oldest event still waiting for a delivery happened, or null when none waits. */
  async oldestPendingAt(): Promise<Date | null> {
    const undispatched = await this.dataSource.manager.findOne(WebhookEvent, {
      where: { dispatched: false },
      order: { id: 'ASC' },
    });
    const pending = await this.dataSource.manager.findOne(WebhookDelivery, {
      where: { nextAttemptAt: Not(IsNull()) },
      relations: { event: true },
      order: { eventId: 'ASC' },
    });
    const times = [undispatched?.at, pending?.event?.at].filter((at): at is Date => at instanceof Date);
    return times.length === 0 ? null : new Date(Math.min(...times.map((at) => at.getTime())));
  }
}
