import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, Migration } from 'typeorm';
import { InitialSchemaPostgres1764000000000 } from '../../migrations/postgres/1764000000000-initial-schema';
import { AuditChainPostgres1764100000000 } from '../../migrations/postgres/1764100000000-audit-chain';
import { ServiceTokensPostgres1765200000000 } from '../../migrations/postgres/1765200000000-service-tokens';
import { AuditSealRoundsPostgres1766000000000 } from '../../migrations/postgres/1766000000000-audit-seal-rounds';
import { OidcClientsPostgres1767000000000 } from '../../migrations/postgres/1767000000000-oidc-clients';
import { OidcPayloadsPostgres1767000001000 } from '../../migrations/postgres/1767000001000-oidc-payloads';
import { WebhooksPostgres1768000000000 } from '../../migrations/postgres/1768000000000-webhooks';
import { InitialSchemaSqlite1764000000000 } from '../../migrations/sqlite/1764000000000-initial-schema';
import { AuditChainSqlite1764100000000 } from '../../migrations/sqlite/1764100000000-audit-chain';
import { ServiceTokensSqlite1765200000000 } from '../../migrations/sqlite/1765200000000-service-tokens';
import { AuditSealRoundsSqlite1766000000000 } from '../../migrations/sqlite/1766000000000-audit-seal-rounds';
import { OidcClientsSqlite1767000000000 } from '../../migrations/sqlite/1767000000000-oidc-clients';
import { OidcPayloadsSqlite1767000001000 } from '../../migrations/sqlite/1767000001000-oidc-payloads';
import { WebhooksSqlite1768000000000 } from '../../migrations/sqlite/1768000000000-webhooks';

export const POSTGRES_MIGRATIONS = [
  InitialSchemaPostgres1764000000000,
  AuditChainPostgres1764100000000,
  ServiceTokensPostgres1765200000000,
  AuditSealRoundsPostgres1766000000000,
  OidcClientsPostgres1767000000000,
  OidcPayloadsPostgres1767000001000,
  WebhooksPostgres1768000000000,
];
export const SQLITE_MIGRATIONS = [
  InitialSchemaSqlite1764000000000,
  AuditChainSqlite1764100000000,
  ServiceTokensSqlite1765200000000,
  AuditSealRoundsSqlite1766000000000,
  OidcClientsSqlite1767000000000,
  OidcPayloadsSqlite1767000001000,
  WebhooksSqlite1768000000000,
];

/** The advisory lock every instance of the service takes to migrate a PostgreSQL database. */
const MIGRATION_LOCK = 4_711_020_511;
const LOCK_POLL_MS = 100;

/**
 * Applies the pending migrations. Instances that start together on PostgreSQL take turns: the
 * first applies them, the others wait for its session lock and then find nothing pending.
 * (TypeORM alone lets them race to create the same tables, and all but one fail.)
 */
export async function runPendingMigrations(dataSource: DataSource): Promise<Migration[]> {
  const run = () => dataSource.runMigrations({ transaction: dataSource.options.migrationsTransactionMode ?? 'all' });
  if (dataSource.options.type !== 'postgres') return run();
  const lockHolder = dataSource.createQueryRunner();
  try {
    // Polled rather than a blocking pg_advisory_lock, which the pool's statement timeout would cut short.
    while (
      !(
        (await lockHolder.query('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK])) as { locked: boolean }[]
      )[0].locked
    )
      await sleep(LOCK_POLL_MS);
    try {
      return await run();
    } finally {
      await lockHolder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await lockHolder.release();
  }
}
