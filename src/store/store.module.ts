import { Module } from '@nestjs/common';
import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import Redis from 'ioredis';
import { AppConfig, RedisConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { JobLock, MemoryJobLock, RedisJobLock } from './job-lock';
import { MemoryOtpStore } from './memory-otp.store';
import { OtpStore } from './otp-store';
import { RedisOtpStore } from './redis-otp.store';
import { RedisRevocationList } from './redis-revocation-list';
import { RedisThrottlerStorage } from './redis-throttler.storage';
import { MemoryRevocationList, RevocationList } from './revocation-list';

/** Rate-limit counters (a ThrottlerStorage): in Redis when the process uses Redis, else in memory. */
export const RATE_LIMIT_STORAGE = Symbol('RATE_LIMIT_STORAGE');

/** The one Redis connection of the process, or null when state lives in memory. */
export abstract class RedisConnection {
  abstract readonly client: Redis | null;
}

export function createRedisClient(redis: RedisConfig): Redis {
  const options = {
    maxRetriesPerRequest: 1,
    commandTimeout: redis.commandTimeoutMs,
    connectTimeout: Math.max(redis.commandTimeoutMs, 2000),
    enableAutoPipelining: true,
  };
  return redis.url
    ? new Redis(redis.url, options)
    : new Redis({ ...options, host: redis.host, port: redis.port, password: redis.password, db: redis.db });
}

function usesRedis(config: AppConfig): config is AppConfig & { redis: RedisConfig } {
  return config.redis !== undefined && (config.otpStore === 'redis' || config.otpStore === 'auto');
}

@Module({
  providers: [
    {
      provide: RedisConnection,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        const client = usesRedis(config) ? createRedisClient(config.redis) : null;
        return { client, onApplicationShutdown: () => client?.quit().catch(() => client.disconnect()) };
      },
    },
    {
      provide: OtpStore,
      inject: [APP_CONFIG, RedisConnection],
      useFactory: (config: AppConfig, redis: RedisConnection): OtpStore =>
        redis.client ? new RedisOtpStore(redis.client, config.redis!.keyPrefix) : new MemoryOtpStore(),
    },
    {
      provide: RATE_LIMIT_STORAGE,
      inject: [APP_CONFIG, RedisConnection],
      useFactory: (config: AppConfig, redis: RedisConnection): ThrottlerStorage =>
        redis.client ? new RedisThrottlerStorage(redis.client, config.redis!.keyPrefix) : new ThrottlerStorageService(),
    },
    {
      provide: RevocationList,
      inject: [APP_CONFIG, RedisConnection],
      useFactory: (config: AppConfig, redis: RedisConnection): RevocationList =>
        redis.client ? new RedisRevocationList(redis.client, config.redis!.keyPrefix) : new MemoryRevocationList(),
    },
    {
      provide: JobLock,
      inject: [APP_CONFIG, RedisConnection],
      useFactory: (config: AppConfig, redis: RedisConnection): JobLock =>
        redis.client ? new RedisJobLock(redis.client, config.redis!.keyPrefix) : new MemoryJobLock(),
    },
  ],
  exports: [OtpStore, RATE_LIMIT_STORAGE, RevocationList, JobLock],
})
export class StoreModule {}
