import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { Session } from './session.entity';

@Injectable()
export class SessionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(session: Session, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.createQueryBuilder().insert().into(Session).values(session as QueryDeepPartialEntity<Session>).updateEntity(false).execute();
  }
}
