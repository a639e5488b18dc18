import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { dataSourceOptions } from './data-source-options';
import { teachSqlitePostgresTypes } from './portable-types';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions(config.database),
        migrationsRun: config.databaseMigrate,
        retryAttempts: 2,
        retryDelay: 1000,
      }),
      dataSourceFactory: async (options?: DataSourceOptions) => {
        const dataSource = new DataSource(options!);
        if (options!.type === 'better-sqlite3') teachSqlitePostgresTypes(dataSource);
        return dataSource.initialize();
      },
    }),
  ],
})
export class DatabaseModule {}
