import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditEvent } from '../../src/audit/audit-event.entity';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { createDataSource } from '../../src/database/data-source-options';
import { ENTITIES } from '../../src/entities';

/** A test configuration with fresh secrets: a random SECRET_KEY and a new P-256 signing key. */
export function unitConfig(env: Record<string, string> = {}): AppConfig {
  return loadConfig({
    NODE_ENV: 'test',
    SECRET_KEY: randomBytes(32).toString('hex'),
    JWT_PRIVATE_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
    ...env,
  });
}

/** An in-memory SQLite database with every migration applied, and a reader of its audit trail. */
export async function migratedSqlite(): Promise<{ dataSource: DataSource; auditTypes: () => Promise<string[]> }> {
  const dataSource = createDataSource({ type: 'sqlite', path: ':memory:' }, ENTITIES);
  await dataSource.initialize();
  await dataSource.runMigrations();
  const auditTypes = async () =>
    (await dataSource.getRepository(AuditEvent).find({ order: { id: 'ASC' } })).map((event) => event.type);
  return { dataSource, auditTypes };
}
