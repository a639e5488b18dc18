import type { Writable } from 'node:stream';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { AccountModule } from './account/account.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { AccessGuard } from './auth/access.guard';
import { JwtAuthGuard } from './auth/jwt-auth.guard';
import { CleanupModule } from './cleanup/cleanup.module';
import { CoreModule } from './core.module';
import { SigningKeys } from './auth/signing-keys';
import { AppConfig } from './config/app-config';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MailModule } from './mail/mail.module';
import { MetricsModule } from './metrics/metrics.module';
import { OidcModule } from './oidc/oidc.module';
import { OidcProviderModule } from './oidc-provider/oidc-provider.module';
import { OtpModule } from './otp/otp.module';
import { RateLimitGuard } from './rate-limit/rate-limit.guard';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { StoreModule } from './store/store.module';
import { UsersModule } from './users/users.module';
import { WebModule } from './web/web.module';
import { WebhookDeliveryModule, WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class AppModule {
  /** `logStream`: where the log lines go instead of stdout (the tests read them there). */
  static forRoot(config: AppConfig, signingKeys: SigningKeys, logStream?: Writable): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config, signingKeys),
        LoggingModule.forRoot(config, logStream),
        ScheduleModule.forRoot(),
        MetricsModule,
        DatabaseModule,
        StoreModule,
        MailModule,
        AuditModule,
        UsersModule,
        AuthModule,
        OtpModule,
        OidcModule,
        AccountModule,
        WebhooksModule,
        WebhookDeliveryModule,
        CleanupModule,
        HealthModule,
        RateLimitModule,
        WebModule,
        OidcProviderModule,
      ],
      // Rate limits run first, so floods are refused before any token is checked.
      providers: [
        { provide: APP_GUARD, useExisting: RateLimitGuard },
        { provide: APP_GUARD, useExisting: JwtAuthGuard },
        { provide: APP_GUARD, useExisting: AccessGuard },
      ],
    };
  }
}
