import { DynamicModule, Global, Module } from '@nestjs/common';
import { SigningKeys } from './auth/signing-keys';
import { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/app-config.module';
import { APP_CONFIG } from './config/app-config.token';
import { Clock, SystemClock } from './common/clock';
import { Secrets } from './common/secrets';

/** What every module may inject: the validated configuration and keys, the clock and the keyed hashes. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig, signingKeys: SigningKeys): DynamicModule {
    return {
      module: CoreModule,
      imports: [AppConfigModule.withConfig(config)],
      providers: [
        { provide: Clock, useClass: SystemClock },
        {
          provide: Secrets,
          useFactory: (appConfig: AppConfig) => new Secrets(appConfig.secretKey, appConfig.previousSecretKeys),
          inject: [APP_CONFIG],
        },
        { provide: SigningKeys, useValue: signingKeys },
      ],
      exports: [AppConfigModule, Clock, Secrets, SigningKeys],
    };
  }
}
