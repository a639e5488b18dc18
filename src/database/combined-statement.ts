import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { DataSource, EntityManager, EntityTarget, ObjectLiteral, QueryBuilder } from 'typeorm';

/** A write built by the module that owns its table, not yet run. */
export type Write = QueryBuilder<ObjectLiteral>;

/** A value known before the write, or, in a combined statement, taken from an earlier write (raw SQL for TypeORM). */
export type WriteValue<T> = T | (() => string);

/** In a combined statement, a value taken from an earlier write's RETURNING. */
export const fromEarlierWrite =
  (cte: string, column: string): (() => string) =>
  () =>
    `(SELECT ${column} FROM ${cte})`;

/**
 * Whether writes may be combined into one statement: PostgreSQL runs data-modifying CTEs as one
 * atomic statement, one round trip instead of a transaction of several.
 */
export function combinesWrites(dataSource: DataSource): boolean {
  return dataSource.options.type === 'postgres';
}

/**
 * Runs the owners' writes as one PostgreSQL statement, `WITH name AS (write), … SELECT * FROM
 * answer` (the RETURNING rows of the write named `answer`), or without `answer` `WITH … last write`.
 * Each write keeps its own SQL and parameters; only the parameters are renumbered.
 */
export async function runCombined(
  manager: EntityManager,
  writes: { name: string; write: Write }[],
  answer?: string,
): Promise<Record<string, unknown>[]> {
  const parameters: unknown[] = [];
  const statements = writes.map(({ write }) => {
    const [sql, values] = write.getQueryAndParameters();
    const offset = parameters.length;
    parameters.push(...(values as unknown[]));
    return sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
  });
  const ctes = statements.map((sql, i) => `${writes[i].name} AS (${sql})`);
  const text = answer
    ? `WITH ${ctes.join(', ')} SELECT * FROM ${answer}`
    : `WITH ${ctes.slice(0, -1).join(', ')} ${statements[statements.length - 1]}`;
  if (manager.queryRunner) return manager.query<Record<string, unknown>[]>(text, parameters);
  // Outside a transaction, the statement goes to the driver's pg pool (PostgresDriver.master) as a
  // named prepared statement: PostgreSQL parses and plans each shape once per connection.
  const pool = (manager.connection.driver as unknown as { master: Pool }).master;
  const name = `combined_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
  return (await pool.query<Record<string, unknown>>({ name, text, values: parameters })).rows;
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
