import type { DataSource } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

/**
 * Entities are written with PostgreSQL's types (timestamptz, jsonb, bigint keys). SQLite has no
 * such names, so its driver is taught their nearest equivalents; values then convert exactly as
 * they do for SQLite's own datetime and json columns.
 */
const SQLITE_EQUIVALENT: Record<string, string> = { timestamptz: 'datetime', jsonb: 'json', bigint: 'integer' };

export function teachSqlitePostgresTypes(dataSource: DataSource): void {
  const driver = dataSource.driver as unknown as {
    normalizeType(column: { type?: unknown }): string;
    preparePersistentValue(value: unknown, column: ColumnMetadata): unknown;
    prepareHydratedValue(value: unknown, column: ColumnMetadata): unknown;
  };
  const normalizeType = driver.normalizeType.bind(driver);
  const persist = driver.preparePersistentValue.bind(driver);
  const hydrate = driver.prepareHydratedValue.bind(driver);
  const equivalent = (column: ColumnMetadata) => {
    const type = typeof column.type === 'string' ? SQLITE_EQUIVALENT[column.type] : undefined;
    return type ? ({ ...column, type } as ColumnMetadata) : column;
  };
  driver.normalizeType = (column) =>
    typeof column.type === 'string' && SQLITE_EQUIVALENT[column.type]
      ? SQLITE_EQUIVALENT[column.type]
      : normalizeType(column);
  driver.preparePersistentValue = (value, column) => persist(value, equivalent(column));
  driver.prepareHydratedValue = (value, column) => hydrate(value, equivalent(column));
}
