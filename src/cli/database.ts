import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { createDataSource } from '../database/data-source-options';
import { ENTITIES } from '../entities';
import { runPendingMigrations } from '../database/migrations';

/** Runs `use` on the configured database, migrated first as the service would be at startup. */
export async function withDatabase<T>(
  config: AppConfig,
  use: (dataSource: DataSource) => Promise<T>,
  { migrate = config.databaseMigrate } = {},
): Promise<T> {
  const dataSource = createDataSource(config.database, ENTITIES);
  await dataSource.initialize();
  try {
    if (migrate) await runPendingMigrations(dataSource);
    return await use(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
