import { InitialSchemaPostgres1764000000000 } from '../../migrations/postgres/1764000000000-initial-schema';
import { InitialSchemaSqlite1764000000000 } from '../../migrations/sqlite/1764000000000-initial-schema';

export const POSTGRES_MIGRATIONS = [InitialSchemaPostgres1764000000000];
export const SQLITE_MIGRATIONS = [InitialSchemaSqlite1764000000000];
