import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { PostgresStatements } from '../database/postgres-statements';
import { FormData, User } from './user.entity';

/** A `users` row as PostgreSQL returns it. */
export interface UserRow {
  id: string;
  email: string;
  name: string | null;
  last_submitted_form_data: FormData | null;
  created_at: Date;
  updated_at: Date;
  last_login_at: Date | null;
}

export function userFromRow(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    lastSubmittedFormData: row.last_submitted_form_data,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastLoginAt: row.last_login_at,
  };
}

@Injectable()
export class UsersRepository {
  private readonly statements: PostgresStatements | null;

  constructor(private readonly dataSource: DataSource) {
    this.statements = PostgresStatements.of(dataSource);
  }

  /** Creates the user on their first sign-in, or stamps the sign-in on the existing one. */
  async upsertSignIn(email: string, at: Date, manager: EntityManager = this.dataSource.manager): Promise<User> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(User)
      .values({
        id: randomUUID(),
        email,
        name: null,
        lastSubmittedFormData: null,
        createdAt: at,
        updatedAt: at,
        lastLoginAt: at,
      })
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

  /** Every authenticated profile read comes here: a prepared statement on PostgreSQL. */
  async findById(id: string): Promise<User | null> {
    if (!this.statements) return this.dataSource.manager.findOneBy(User, { id });
    const [row] = await this.statements.run<UserRow>('users_find_by_id', 'SELECT * FROM users WHERE id = $1', [id]);
    return row ? userFromRow(row) : null;
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
