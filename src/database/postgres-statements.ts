import type { Pool, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * The pg pool under TypeORM, when the engine is PostgreSQL. Hot paths send their one statement
 * through it as a named prepared statement: parsed and planned once per connection, one round
 * trip per request, none of TypeORM's query building.
 */
export class PostgresStatements {
  private constructor(private readonly pool: Pool) {}

  static of(dataSource: DataSource): PostgresStatements | null {
    return dataSource.driver instanceof PostgresDriver
      ? new PostgresStatements(dataSource.driver.master as Pool)
      : null;
  }

  async run<Row extends QueryResultRow>(name: string, text: string, values: unknown[]): Promise<Row[]> {
    return (await this.pool.query<Row>({ name, text, values })).rows;
  }
}
