import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, QueryDeepPartialEntity } from 'typeorm';
import { entityFromRow, onPostgres, PreparedStatement } from '../database/prepared-statement';
import { RowMapping } from '../database/row-mapping';
import { FormData, User } from './user.entity';

/** The row a first sign-in creates. */
export function newSignIn(email: string, at: Date): User {
  return {
    id: randomUUID(),
    email,
    name: null,
    lastSubmittedFormData: null,
    createdAt: at,
    updatedAt: at,
    lastLoginAt: at,
  };
}

@Injectable()
export class UsersRepository {
  private byId?: PreparedStatement;

  constructor(private readonly dataSource: DataSource) {}

  /** Creates the user on their first sign-in, or stamps the sign-in on the existing one. */
  async upsertSignIn(email: string, at: Date, manager: EntityManager = this.dataSource.manager): Promise<User> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(User)
      .values(newSignIn(email, at) as QueryDeepPartialEntity<User>)
      .orUpdate(['last_login_at', 'updated_at'], ['email'])
      .updateEntity(false)
      .execute();
    return manager.findOneByOrFail(User, { email });
  }

  /** Newest first; keyset on (created_at, id). */
  page(
    emailPrefix: string | undefined,
    after: { createdAt: Date; id: string } | undefined,
    limit: number,
  ): Promise<User[]> {
    const query = this.dataSource.manager
      .createQueryBuilder(User, 'user')
      .orderBy('user.created_at', 'DESC')
      .addOrderBy('user.id', 'DESC')
      .take(limit);
    if (emailPrefix)
      query.andWhere("user.email LIKE :prefix ESCAPE '\\'", {
        prefix: `${emailPrefix.replace(/[\\%_]/g, (char) => `\\${char}`)}%`,
      });
    if (after) {
      query.andWhere('(user.created_at < :createdAt OR (user.created_at = :createdAt AND user.id < :id))', {
        createdAt: after.createdAt,
        id: after.id,
      });
    }
    return query.getMany();
  }

  /** Every profile read the cache misses comes here: a prepared statement on PostgreSQL. */
  async findById(id: string): Promise<User | null> {
    if (!onPostgres(this.dataSource)) return this.dataSource.manager.findOneBy(User, { id });
    if (!this.byId) {
      const users = new RowMapping(this.dataSource, User);
      this.byId = new PreparedStatement(`SELECT * FROM ${users.table} WHERE ${users.column('id')} = $1`);
    }
    const [row] = await this.byId.run<Record<string, unknown>>(this.dataSource, [id]);
    return row ? entityFromRow(this.dataSource.manager, User, row) : null;
  }

  /**
   * Takes the user's row lock for the rest of the transaction (a sign-in of the user waits for
   * it); false when the user does not exist.
   */
  async lockWrite(id: string, at: Date, manager: EntityManager): Promise<boolean> {
    const result = await manager.update(User, { id }, { updatedAt: at });
    return (result.affected ?? 0) === 1;
  }

  /** Moves the user to a new address: 'taken' when another user has it (also when one took it meanwhile). */
  async changeEmailWrite(
    id: string,
    email: string,
    at: Date,
    manager: EntityManager,
  ): Promise<'changed' | 'taken' | 'gone'> {
    const holder = await manager.findOne(User, { select: { id: true }, where: { email } });
    if (holder && holder.id !== id) return 'taken';
    const result = await manager.update(User, { id }, { email, updatedAt: at });
    return (result.affected ?? 0) === 1 ? 'changed' : 'gone';
  }

  /** Deletes the user; their sessions and code records go with them (ON DELETE CASCADE). */
  async deleteWrite(id: string, manager: EntityManager): Promise<void> {
    await manager.delete(User, { id });
  }

  async updateProfile(
    id: string,
    changes: { name?: string | null; lastSubmittedFormData?: FormData | null },
    at: Date,
  ): Promise<User | null> {
    await this.dataSource.manager.update(User, { id }, { ...changes, updatedAt: at } as QueryDeepPartialEntity<User>);
    return this.findById(id);
  }
}
