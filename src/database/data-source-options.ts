import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/app-config';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from './migrations';
import { teachSqlitePostgresTypes } from './portable-types';

/** Entities come from the modules that own them (TypeOrmModule.forFeature) or, outside Nest, from the caller. */
export function dataSourceOptions(
  database: DatabaseConfig,
  entities: DataSourceOptions['entities'] = [],
): DataSourceOptions {
  const common = {
    entities,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'migrations',
    logging: false,
  } as const;
  if (database.type === 'postgres') {
    return {
      ...common,
      type: 'postgres',
      url: database.url,
      migrations: POSTGRES_MIGRATIONS,
      extra: { max: 20, connectionTimeoutMillis: 5000, statement_timeout: 10_000, query_timeout: 15_000 },
    };
  }
  if (database.path !== ':memory:') mkdirSync(dirname(database.path), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: database.path,
    migrations: SQLITE_MIGRATIONS,
    enableWAL: database.path !== ':memory:',
    timeout: 5000,
  };
}

/** A data source for either engine; SQLite learns the PostgreSQL column types the entities use. */
export function createDataSource(database: DatabaseConfig, entities: DataSourceOptions['entities']): DataSource {
  const dataSource = new DataSource(dataSourceOptions(database, entities));
  if (database.type === 'sqlite') teachSqlitePostgresTypes(dataSource);
  return dataSource;
}
