import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { dataSourceOptions } from './data-source-options';
import { runPendingMigrations } from './migrations';
import { teachSqlitePostgresTypes } from './portable-types';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions(config.database),
        autoLoadEntities: true,
        migrationsRun: config.databaseMigrate,
        retryAttempts: 2,
        retryDelay: 1000,
      }),
      dataSourceFactory: async (options?: DataSourceOptions) => {
        // Migrations run here, one instance at a time, rather than by TypeORM's initialize().
        const dataSource = new DataSource({ ...options!, migrationsRun: false });
        if (options!.type === 'better-sqlite3') teachSqlitePostgresTypes(dataSource);
        await dataSource.initialize();
        try {
          if (options!.migrationsRun) await runPendingMigrations(dataSource);
        } catch (error) {
          await dataSource.destroy();
          throw error;
        }
        return dataSource;
      },
    }),
  ],
})
export class DatabaseModule {}
