import { DynamicModule, Global, Module } from '@nestjs/common';
import { SigningKeys } from './auth/signing-keys';
import { AppConfig } from './config/app-config';
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
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: Clock, useClass: SystemClock },
        { provide: Secrets, useValue: new Secrets(config.secretKey) },
        { provide: SigningKeys, useValue: signingKeys },
      ],
      exports: [APP_CONFIG, Clock, Secrets, SigningKeys],
    };
  }
}
