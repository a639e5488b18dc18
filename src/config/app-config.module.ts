import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { AppConfig, loadConfig } from './app-config';
import { APP_CONFIG } from './app-config.token';

/** What ConfigService holds: the whole validated configuration under one key. */
export interface ValidatedEnvironment {
  app: AppConfig;
}

/**
 * ConfigModule's validate hook: `.env` merged under the process environment, read and checked
 * once by loadConfig, which throws ConfigError naming the first bad variable.
 */
export function validateEnvironment(variables: Record<string, unknown>): ValidatedEnvironment {
  return { app: loadConfig(variables as NodeJS.ProcessEnv) };
}

function appConfigFrom(configService: ConfigService<ValidatedEnvironment, true>): AppConfig {
  return configService.getOrThrow('app', { infer: true });
}

/** @nestjs/config loads and holds the configuration; the rest of the app injects the typed AppConfig (APP_CONFIG). */
@Global()
@Module({})
export class AppConfigModule {
  /** Reads `envFilePath` and the process environment; a bad value rejects with ConfigError before any provider starts. */
  static fromEnvironment(envFilePath = '.env'): Promise<DynamicModule> {
    return AppConfigModule.serving(
      ConfigModule.forRoot({ isGlobal: true, envFilePath, validate: validateEnvironment }),
    );
  }

  /** Serves a configuration already read (by main.ts or a test); neither `.env` nor the process environment is read again. */
  static withConfig(config: AppConfig): Promise<DynamicModule> {
    return AppConfigModule.serving(
      ConfigModule.forRoot({
        isGlobal: true,
        ignoreEnvFile: true,
        validatePredefined: false,
        skipProcessEnv: true,
        load: [(): ValidatedEnvironment => ({ app: config })],
      }),
    );
  }

  private static async serving(configModule: Promise<DynamicModule>): Promise<DynamicModule> {
    return {
      module: AppConfigModule,
      imports: [await configModule],
      providers: [{ provide: APP_CONFIG, useFactory: appConfigFrom, inject: [ConfigService] }],
      exports: [APP_CONFIG],
    };
  }
}

/**
 * The configuration main.ts needs before the HTTP application exists (adapter options, logger,
 * signing keys, port), read through ConfigService in a context holding only the configuration.
 */
export async function readAppConfig(): Promise<AppConfig> {
  const context = await NestFactory.createApplicationContext(await AppConfigModule.fromEnvironment(), {
    logger: false,
    abortOnError: false,
  });
  try {
    return context.get<AppConfig>(APP_CONFIG);
  } finally {
    await context.close();
  }
}
