// The TypeORM CLI's entry: `npm run typeorm -- migration:show` (after `npm run build`).
import { loadConfig } from './config/app-config';
import { createDataSource } from './database/data-source-options';
import { ENTITIES } from './entities';

export default createDataSource(loadConfig(process.env).database, ENTITIES);
