// The TypeORM CLI's entry: `npm run typeorm -- migration:show` (after `npm run build`).
// It reads DATABASE_URL alone: whoever migrates needs the owner's credentials, not the service's secrets.
import { loadDatabaseConfig } from './config/app-config';
import { createDataSource } from './database/data-source-options';
import { ENTITIES } from './entities';

export default createDataSource(loadDatabaseConfig(process.env), ENTITIES);
