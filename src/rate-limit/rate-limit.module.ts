import { Module } from '@nestjs/common';
import { ThrottlerModule, ThrottlerStorage } from '@nestjs/throttler';
import { AuditModule } from '../audit/audit.module';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { RATE_LIMIT_STORAGE, StoreModule } from '../store/store.module';
import { isOtpRateLimited } from '../common/rate-limit.decorator';
import { RateLimitGuard } from './rate-limit.guard';

const MINUTE_MS = 60_000;

@Module({
  imports: [
    AuditModule,
    ThrottlerModule.forRootAsync({
      imports: [StoreModule],
      inject: [APP_CONFIG, RATE_LIMIT_STORAGE],
      useFactory: (config: AppConfig, storage: ThrottlerStorage) => ({
        storage,
        throttlers: [
          // Every route, per client IP.
          {
            name: 'global',
            ttl: MINUTE_MS,
            limit: config.rateLimit.globalPerIpPerMinute,
            generateKey: (_context, ip) => `global:${ip}`,
          },
          // One budget per client IP shared by the OTP endpoints (send, resend, verify).
          {
            name: 'otp',
            ttl: MINUTE_MS,
            limit: config.rateLimit.otpPerIpPerMinute,
            skipIf: (context) => !isOtpRateLimited(context),
            generateKey: (_context, ip) => `otp:${ip}`,
          },
        ],
      }),
    }),
  ],
  providers: [RateLimitGuard],
  exports: [RateLimitGuard, ThrottlerModule, AuditModule],
})
export class RateLimitModule {}
