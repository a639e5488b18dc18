import { InitialSchemaPostgres1764000000000 } from '../../migrations/postgres/1764000000000-initial-schema';
import { AuditChainPostgres1764100000000 } from '../../migrations/postgres/1764100000000-audit-chain';
import { InitialSchemaSqlite1764000000000 } from '../../migrations/sqlite/1764000000000-initial-schema';
import { AuditChainSqlite1764100000000 } from '../../migrations/sqlite/1764100000000-audit-chain';

export const POSTGRES_MIGRATIONS = [InitialSchemaPostgres1764000000000, AuditChainPostgres1764100000000];
export const SQLITE_MIGRATIONS = [InitialSchemaSqlite1764000000000, AuditChainSqlite1764100000000];
