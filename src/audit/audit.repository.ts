import { Injectable } from '@nestjs/common';
import { Brackets, DataSource, IsNull, LessThan, LessThanOrEqual, SelectQueryBuilder } from 'typeorm';
import { AuditAnchor } from './audit-anchor.entity';
import { entityFromRow } from '../database/prepared-statement';
import { IdRange } from './audit-chain';
import { AuditEvent, AuditEventType } from './audit-event.entity';
import { AuditSeal } from './audit-seal.entity';

/** Keeps each statement's parameters well under SQLite's limit. */
export const RANGES_PER_QUERY = 500;

export interface AuditFilter {
  type?: AuditEventType;
  types?: AuditEventType[];
  email?: string;
  userId?: string;
  since?: Date;
  until?: Date;
}

/** Queries of the audit trail; the only writes are inserts and retention's deletes. */
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

  latestAnchor(kind: AuditAnchor['kind']): Promise<AuditAnchor | null> {
    return this.dataSource.manager
      .createQueryBuilder(AuditAnchor, 'anchor')
      .where('anchor.kind = :kind', { kind })
      .orderBy('anchor.chain_index', 'DESC')
      .limit(1)
      .getOne();
  }

  async insertAnchor(anchor: Omit<AuditAnchor, 'id'>): Promise<void> {
    await this.dataSource.manager.insert(AuditAnchor, anchor);
  }

  lastRound(): Promise<AuditSeal | null> {
    return this.dataSource.manager.findOne(AuditSeal, { where: {}, order: { round: 'DESC' } });
  }

  /** Fails on a round that another instance sealed first: the primary key keeps one chain. */
  async insertRound(round: AuditSeal): Promise<void> {
    await this.dataSource.manager.insert(AuditSeal, round);
  }

  /** Rounds from `round` on, in order. */
  roundsFrom(round: bigint, limit: number): Promise<AuditSeal[]> {
    return this.dataSource.manager
      .createQueryBuilder(AuditSeal, 'seal')
      .where('seal.round >= :round', { round: round.toString() })
      .orderBy('seal.round', 'ASC')
      .take(limit)
      .getMany();
  }

  /**
   * Events within `waiting`, then above `horizon`, ascending by id, at most `limit`; not those of
   * the legacy chain. Two index range scans: one query with OR and a filter on chain_index is
   * planned as a full scan and a sort while the table has no statistics.
   */
  async sealCandidates(horizon: number, waiting: IdRange[], limit: number): Promise<AuditEvent[]> {
    const query = () => this.dataSource.manager.createQueryBuilder(AuditEvent, 'event').orderBy('event.id', 'ASC');
    const late =
      waiting.length > 0
        ? (await this.plainEvents(query().where(this.withinRanges(waiting.slice(0, RANGES_PER_QUERY))))).slice(0, limit)
        : [];
    const above =
      late.length === limit
        ? []
        : await this.plainEvents(
            query()
              .where('event.id > :horizon', { horizon })
              .limit(limit - late.length),
          );
    return [...late, ...above].filter((event) => event.chainIndex === null);
  }

  eventsIn(ranges: IdRange[]): Promise<AuditEvent[]> {
    return this.plainEvents(
      this.dataSource.manager.createQueryBuilder(AuditEvent, 'event').where(this.withinRanges(ranges)),
    );
  }

  /**
   * Ids after `afterId` (from the first without), ascending, each with whether it belongs to the
   * legacy chain, for the caller to skip. Filtered on chain_index here instead, each batch became
   * a full scan and a sort whenever PostgreSQL had no statistics on the table.
   */
  async eventIdsAfter(afterId: number | undefined, limit: number): Promise<{ id: number; legacy: boolean }[]> {
    const query = this.dataSource.manager
      .createQueryBuilder(AuditEvent, 'event')
      .select('event.id', 'id')
      .addSelect('event.chain_index', 'chainIndex');
    if (afterId !== undefined) query.where('event.id > :afterId', { afterId });
    const rows = await query
      .orderBy('event.id', 'ASC')
      .limit(limit)
      .getRawMany<{ id: string | number; chainIndex: string | number | null }>();
    return rows.map((row) => ({ id: Number(row.id), legacy: row.chainIndex !== null }));
  }

  /** The newest round sealed before `cutoff`: every event it covers is older. */
  lastRoundSealedBefore(cutoff: Date): Promise<AuditSeal | null> {
    return this.dataSource.manager.findOne(AuditSeal, {
      where: { sealedAt: LessThan(cutoff) },
      order: { round: 'DESC' },
    });
  }

  /** Deletes these rounds and their events together. */
  async deleteRounds(rounds: AuditSeal[], ranges: IdRange[]): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      for (let i = 0; i < ranges.length; i += RANGES_PER_QUERY)
        await manager
          .createQueryBuilder()
          .delete()
          .from(AuditEvent)
          .where(this.withinRanges(ranges.slice(i, i + RANGES_PER_QUERY), undefined, 'id'))
          .execute();
      await manager.delete(
        AuditSeal,
        rounds.map((round) => round.round),
      );
    });
  }

  /** The legacy chain's newest event. */
  lastLegacySealed(): Promise<AuditEvent | null> {
    return this.dataSource.manager
      .createQueryBuilder(AuditEvent, 'event')
      .where('event.chain_index IS NOT NULL')
      .orderBy('event.chain_index', 'DESC')
      .limit(1)
      .getOne();
  }

  /** The highest id the legacy chain sealed, or 0. */
  async legacyHorizon(): Promise<number> {
    const [row] = await this.dataSource.manager
      .createQueryBuilder(AuditEvent, 'event')
      .select('MAX(event.id)', 'id')
      .where('event.chain_index IS NOT NULL')
      .getRawMany<{ id: string | number | null }>();
    return Number(row?.id ?? 0);
  }

  /** Ids at or below `id` that the legacy chain never sealed: late commits when rounds began. */
  async unsealedLegacyIds(id: number): Promise<number[]> {
    const rows = await this.dataSource.manager.find(AuditEvent, {
      select: { id: true },
      where: { chainIndex: IsNull(), id: LessThanOrEqual(String(id)) },
      order: { id: 'ASC' },
    });
    return rows.map((row) => Number(row.id));
  }

  /** Sealed events from `fromIndex` on, in chain order. */
  chainFrom(fromIndex: bigint, limit: number): Promise<AuditEvent[]> {
    return this.plainEvents(
      this.dataSource.manager
        .createQueryBuilder(AuditEvent, 'event')
        .where('event.chain_index >= :fromIndex', { fromIndex: fromIndex.toString() })
        .orderBy('event.chain_index', 'ASC')
        .limit(limit),
    );
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

  /**
   * The events a query selects, as plain objects, each value converted by the driver as when it
   * loads entities: for reads of every event, where building entities took about a tenth of
   * `audit verify`'s time.
   */
  private async plainEvents(query: SelectQueryBuilder<AuditEvent>): Promise<AuditEvent[]> {
    query.select([]);
    for (const column of this.dataSource.getMetadata(AuditEvent).columns)
      query.addSelect(`event.${column.propertyName}`, column.databaseName);
    const rows = await query.getRawMany<Record<string, unknown>>();
    return rows.map((row) => entityFromRow(this.dataSource.manager, AuditEvent, row));
  }

  /** `id` within one of the ranges, or above `above`. */
  private withinRanges(ranges: IdRange[], above?: number, column = 'event.id'): Brackets {
    return new Brackets((where) => {
      where.where(above === undefined ? '1 = 0' : `${column} > :above`, { above });
      ranges.forEach(([from, to], i) =>
        where.orWhere(`${column} BETWEEN :from${i} AND :to${i}`, { [`from${i}`]: from, [`to${i}`]: to }),
      );
    });
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
