import type { Pool, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';

/**
 * The pg pool under TypeORM, when the engine is PostgreSQL. Hot paths send their one statement
 * through it as a named prepared statement: parsed and planned once per connection, one round
 * trip per request, none of TypeORM's query building.
 */
export class PostgresStatements {
  private constructor(private readonly pool: Pool) {}

  static of(dataSource: DataSource): PostgresStatements | null {
    // TypeORM's PostgreSQL driver keeps its pg pool as `master`.
    return dataSource.options.type === 'postgres'
      ? new PostgresStatements((dataSource.driver as unknown as { master: Pool }).master)
      : null;
  }

  async run<Row extends QueryResultRow>(name: string, text: string, values: unknown[]): Promise<Row[]> {
    return (await this.pool.query<Row>({ name, text, values })).rows;
  }
}
