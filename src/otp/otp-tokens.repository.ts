import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, IsNull, LessThan } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { OtpToken } from './otp-token.entity';

@Injectable()
export class OtpTokensRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(token: OtpToken, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(OtpToken)
      .values(token as QueryDeepPartialEntity<OtpToken>)
      .updateEntity(false)
      .execute();
  }

  async delete(id: string, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.delete(OtpToken, id);
  }

  /** Deletes up to `batch` codes that expired before `before`; returns how many. */
  async deleteExpired(before: Date, batch: number): Promise<number> {
    const rows = await this.dataSource.manager.find(OtpToken, {
      select: { id: true },
      where: { expiresAt: LessThan(before) },
      take: batch,
    });
    if (rows.length > 0)
      await this.dataSource.manager.delete(
        OtpToken,
        rows.map((row) => row.id),
      );
    return rows.length;
  }

  /** Links every code of a verified login to its user and marks them used. */
  async markLoginVerified(
    loginId: string,
    userId: string,
    at: Date,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<void> {
    await manager.update(OtpToken, { loginId, consumedAt: IsNull() }, { userId, consumedAt: at });
  }
}
