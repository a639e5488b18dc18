import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, IsNull, LessThan, SelectQueryBuilder } from 'typeorm';
import { AuditAnchor } from './audit-anchor.entity';
import { AuditEvent, AuditEventType } from './audit-event.entity';

export interface AuditFilter {
  type?: AuditEventType;
  types?: AuditEventType[];
  email?: string;
  userId?: string;
  since?: Date;
  until?: Date;
}

/** Queries of the audit trail; the only writes are inserts, seals and retention. */
@Injectable()
export class AuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Newest first, `limit` events with ids below `beforeId`. */
  page(filter: AuditFilter, beforeId: string | undefined, limit: number): Promise<AuditEvent[]> {
    const query = this.filtered(filter).orderBy('event.id', 'DESC').take(limit);
    if (beforeId) query.andWhere('event.id < :beforeId', { beforeId });
    return query.getMany();
  }

  /** Oldest first, `limit` events with ids above `afterId`: the export's batches. */
  batchAfter(filter: AuditFilter, afterId: string | undefined, limit: number): Promise<AuditEvent[]> {
    const query = this.filtered(filter).orderBy('event.id', 'ASC').take(limit);
    if (afterId) query.andWhere('event.id > :afterId', { afterId });
    return query.getMany();
  }

  lastSealed(manager: EntityManager): Promise<AuditEvent | null> {
    return manager
      .createQueryBuilder(AuditEvent, 'event')
      .where('event.chain_index IS NOT NULL')
      .orderBy('event.chain_index', 'DESC')
      .limit(1)
      .getOne();
  }

  latestAnchor(
    kind: AuditAnchor['kind'],
    manager: EntityManager = this.dataSource.manager,
  ): Promise<AuditAnchor | null> {
    return manager
      .createQueryBuilder(AuditAnchor, 'anchor')
      .where('anchor.kind = :kind', { kind })
      .orderBy('anchor.chain_index', 'DESC')
      .limit(1)
      .getOne();
  }

  /** Replaces the head checkpoint. */
  async moveHead(manager: EntityManager, head: Omit<AuditAnchor, 'id' | 'kind'>): Promise<void> {
    await manager.delete(AuditAnchor, { kind: 'head' });
    await manager.insert(AuditAnchor, { ...head, kind: 'head' });
  }

  /** The oldest unsealed events, in the order they were committed. */
  unsealed(manager: EntityManager, limit: number): Promise<AuditEvent[]> {
    return manager.find(AuditEvent, { where: { chainIndex: IsNull() }, order: { id: 'ASC' }, take: limit });
  }

  /** Seals the events with one statement, on either engine. */
  async seal(manager: EntityManager, events: Pick<AuditEvent, 'id' | 'chainIndex' | 'seal'>[]): Promise<void> {
    const postgres = manager.connection.driver.options.type === 'postgres';
    const parameter = (n: number) => (postgres ? `$${n}` : '?');
    const rows = events.map(
      (_, i) =>
        `(CAST(${parameter(3 * i + 1)} AS BIGINT), CAST(${parameter(3 * i + 2)} AS BIGINT), ${parameter(3 * i + 3)})`,
    );
    await manager.query(
      `WITH sealed (id, chain_index, seal) AS (VALUES ${rows.join(', ')})
       UPDATE audit_events SET chain_index = sealed.chain_index, seal = sealed.seal FROM sealed
       WHERE audit_events.id = sealed.id AND audit_events.chain_index IS NULL`,
      events.flatMap((event) => [event.id, event.chainIndex, event.seal]),
    );
  }

  /** Sealed events from `fromIndex` on, in chain order. */
  chainFrom(fromIndex: bigint, limit: number): Promise<AuditEvent[]> {
    return this.dataSource.manager
      .createQueryBuilder(AuditEvent, 'event')
      .where('event.chain_index >= :fromIndex', { fromIndex: fromIndex.toString() })
      .orderBy('event.chain_index', 'ASC')
      .take(limit)
      .getMany();
  }

  unsealedBefore(at: Date): Promise<AuditEvent[]> {
    return this.dataSource.manager.find(AuditEvent, {
      where: { chainIndex: IsNull(), at: LessThan(at) },
      order: { id: 'ASC' },
      take: 10,
    });
  }

  /** The last sealed event older than `cutoff` that has no newer event before it in the chain. */
  async lastPrunable(cutoff: Date): Promise<AuditEvent | null> {
    const firstKept = await this.dataSource.manager
      .createQueryBuilder(AuditEvent, 'event')
      .where('event.chain_index IS NOT NULL AND event.at >= :cutoff', { cutoff })
      .orderBy('event.chain_index', 'ASC')
      .limit(1)
      .getOne();
    const query = this.dataSource.manager
      .createQueryBuilder(AuditEvent, 'event')
      .where('event.chain_index IS NOT NULL AND event.at < :cutoff', { cutoff });
    if (firstKept) query.andWhere('event.chain_index < :firstKept', { firstKept: firstKept.chainIndex });
    return query.orderBy('event.chain_index', 'DESC').limit(1).getOne();
  }

  async insertStartAnchor(anchor: Omit<AuditAnchor, 'id' | 'kind'>): Promise<void> {
    await this.dataSource.manager.insert(AuditAnchor, { ...anchor, kind: 'start' });
  }

  /** Deletes up to `batch` events at or before `chainIndex`; returns how many. */
  async deleteChainUpTo(chainIndex: string, batch: number): Promise<number> {
    const ids = await this.dataSource.manager
      .createQueryBuilder(AuditEvent, 'event')
      .select('event.id', 'id')
      .where('event.chain_index <= :chainIndex', { chainIndex })
      .orderBy('event.chain_index', 'ASC')
      .limit(batch)
      .getRawMany<{ id: string }>();
    if (ids.length === 0) return 0;
    await this.dataSource.manager.delete(
      AuditEvent,
      ids.map((row) => row.id),
    );
    return ids.length;
  }

  private filtered(filter: AuditFilter): SelectQueryBuilder<AuditEvent> {
    const query = this.dataSource.manager.createQueryBuilder(AuditEvent, 'event').where('1 = 1');
    if (filter.type) query.andWhere('event.type = :type', { type: filter.type });
    if (filter.types) query.andWhere('event.type IN (:...types)', { types: filter.types });
    if (filter.email) query.andWhere('event.email = :email', { email: filter.email });
    if (filter.userId) query.andWhere('event.user_id = :userId', { userId: filter.userId });
    if (filter.since) query.andWhere('event.at >= :since', { since: filter.since });
    if (filter.until) query.andWhere('event.at < :until', { until: filter.until });
    return query;
  }
}
