import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { OtpToken } from './otp-token.entity';

@Injectable()
export class OtpTokensRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(token: OtpToken, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.createQueryBuilder().insert().into(OtpToken).values(token as QueryDeepPartialEntity<OtpToken>).updateEntity(false).execute();
  }

  /** Links every code of a verified login to its user and marks them used. */
  async markLoginVerified(loginId: string, userId: string, at: Date, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.update(OtpToken, { loginId, consumedAt: IsNull() }, { userId, consumedAt: at });
  }
}
