import { Injectable } from '@nestjs/common';
import { DataSource, IsNull } from 'typeorm';
import { OidcPayload } from './oidc-payload.entity';

/** A column a record is found by, besides its own key. */
export type OidcPayloadLookup = 'key' | 'uidKey' | 'userCodeKey';

const LIVE = '(payload.expires_at IS NULL OR payload.expires_at > :now)';

@Injectable()
export class OidcPayloadsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Inserts the record or replaces the one with its model and key. */
  async upsert(record: OidcPayload): Promise<void> {
    await this.dataSource.manager.upsert(OidcPayload, record, ['model', 'key']);
  }

  /** The record of `model` whose `lookup` column is `value`, unless it has expired by `now`. */
  findLive(model: string, lookup: OidcPayloadLookup, value: string, now: Date): Promise<OidcPayload | null> {
    return this.dataSource.manager
      .createQueryBuilder(OidcPayload, 'payload')
      .where({ model, [lookup]: value })
      .andWhere(LIVE, { now })
      .getOne();
  }

  /**
   * Marks the record consumed at `at` unless it already is, has expired or is gone: one
   * conditional statement, so of two concurrent calls on any instances only one succeeds.
   */
  async consume(model: string, key: string, at: Date): Promise<boolean> {
    const result = await this.dataSource.manager
      .createQueryBuilder()
      .update(OidcPayload)
      .set({ consumedAt: at })
      .where({ model, key, consumedAt: IsNull() })
      .andWhere('(expires_at IS NULL OR expires_at > :at)', { at })
      .execute();
    return result.affected === 1;
  }

  async delete(model: string, key: string): Promise<void> {
    await this.dataSource.manager.delete(OidcPayload, { model, key });
  }

  /** Deletes every record of the grant, whatever its model. */
  async deleteByGrant(grantKey: string): Promise<void> {
    await this.dataSource.manager.delete(OidcPayload, { grantKey });
  }

  /** Deletes up to `batch` records expired by `now`; returns how many. */
  async deleteExpired(now: Date, batch: number): Promise<number> {
    const expired = this.dataSource.manager
      .createQueryBuilder(OidcPayload, 'expired')
      .select(['expired.model', 'expired.key'])
      .where('expired.expires_at <= :now')
      .limit(batch);
    const result = await this.dataSource.manager
      .createQueryBuilder()
      .delete()
      .from(OidcPayload)
      .where(`("model", "key") IN (${expired.getQuery()})`, { now })
      .execute();
    return result.affected ?? 0;
  }
}
