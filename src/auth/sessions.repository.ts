import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, IsNull, MoreThan, QueryDeepPartialEntity } from 'typeorm';
import { Session } from './session.entity';

@Injectable()
export class SessionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(session: Session, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(Session)
      .values(session as QueryDeepPartialEntity<Session>)
      .updateEntity(false)
      .execute();
  }

  findById(id: string): Promise<Session | null> {
    return this.dataSource.manager.findOneBy(Session, { id });
  }

  /** Moves the session to a new refresh token, only if it still has `fromHash`: one rotation wins a race. */
  async rotate(
    id: string,
    fromHash: string,
    changes: Pick<Session, 'refreshTokenHash' | 'refreshedAt' | 'refreshExpiresAt' | 'lastUsedAt' | 'ip' | 'userAgent'>,
  ): Promise<boolean> {
    const result = await this.dataSource.manager.update(
      Session,
      { id, refreshTokenHash: fromHash, revokedAt: IsNull() },
      changes,
    );
    return (result.affected ?? 0) === 1;
  }

  /** Revokes the session if it belongs to the user (or to anyone, without one) and is live. */
  async revoke(id: string, at: Date, userId?: string): Promise<boolean> {
    const result = await this.dataSource.manager.update(
      Session,
      { id, revokedAt: IsNull(), ...(userId ? { userId } : {}) },
      { revokedAt: at },
    );
    return (result.affected ?? 0) === 1;
  }

  /** Revokes every live session of the user but `keepId`; returns their ids. */
  async revokeAllOfUser(userId: string, at: Date, keepId?: string): Promise<string[]> {
    const live = (
      await this.dataSource.manager.find(Session, {
        select: { id: true },
        where: { userId, revokedAt: IsNull(), expiresAt: MoreThan(at) },
      })
    ).filter((session) => session.id !== keepId);
    if (live.length > 0)
      await this.dataSource.manager.update(
        Session,
        live.map((session) => session.id),
        { revokedAt: at },
      );
    return live.map((session) => session.id);
  }

  /** Every session of the user, live or ended, in the caller's transaction. */
  async idsOfUser(userId: string, manager: EntityManager = this.dataSource.manager): Promise<string[]> {
    const rows = await manager.find(Session, { select: { id: true }, where: { userId } });
    return rows.map((row) => row.id);
  }

  findAllOfUser(userId: string): Promise<Session[]> {
    return this.dataSource.manager.find(Session, { where: { userId }, order: { createdAt: 'DESC' } });
  }

  /** Deletes up to `batch` sessions that can never be used again; returns how many. */
  async deleteEnded(now: Date, revokedBefore: Date, batch: number): Promise<number> {
    const rows = await this.dataSource.manager
      .createQueryBuilder(Session, 'session')
      .select('session.id', 'id')
      .where('session.expires_at < :now OR session.refresh_expires_at < :now OR session.revoked_at < :revokedBefore', {
        now,
        revokedBefore,
      })
      .limit(batch)
      .getRawMany<{ id: string }>();
    if (rows.length > 0)
      await this.dataSource.manager.delete(
        Session,
        rows.map((row) => row.id),
      );
    return rows.length;
  }

  listLiveOfUser(userId: string, now: Date): Promise<Session[]> {
    return this.dataSource.manager.find(Session, {
      where: { userId, revokedAt: IsNull(), expiresAt: MoreThan(now), refreshExpiresAt: MoreThan(now) },
      order: { createdAt: 'DESC' },
    });
  }
}
