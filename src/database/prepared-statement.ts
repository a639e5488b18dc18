import { createHash } from 'node:crypto';
import type { Pool, QueryResultRow } from 'pg';
import { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * Whether hot writes go as prepared statements: PostgreSQL runs data-modifying CTEs as one atomic
 * statement (one round trip instead of a transaction of several), and plans a named one once.
 */
export function onPostgres(dataSource: DataSource): boolean {
  return dataSource.options.type === 'postgres';
}

/**
 * A statement PostgreSQL runs as a named prepared statement, through the pg pool TypeORM's driver
 * keeps as its public `master`: parsed and planned once per connection, not on every run.
 */
export class PreparedStatement {
  private readonly name: string;

  constructor(readonly text: string) {
    this.name = `s_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
  }

  async run<Row extends QueryResultRow>(dataSource: DataSource, values: unknown[]): Promise<Row[]> {
    const pool = (dataSource.driver as unknown as { master: Pool }).master;
    return (await pool.query<Row>({ name: this.name, text: this.text, values })).rows;
  }
}

/** An entity from a RETURNING row, through the entity's own column mapping. */
export function entityFromRow<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  row: Record<string, unknown>,
): T {
  const metadata = manager.connection.getMetadata(target);
  const entity = {} as Record<string, unknown>;
  for (const column of metadata.columns)
    entity[column.propertyName] = manager.connection.driver.prepareHydratedValue(row[column.databaseName], column);
  return entity as T;
}
