import { Module } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig, RedisConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { MemoryOtpStore } from './memory-otp.store';
import { OtpStore } from './otp-store';
import { RedisOtpStore } from './redis-otp.store';

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

export function createOtpStore(config: AppConfig): OtpStore {
  const useRedis = config.otpStore === 'redis' || (config.otpStore === 'auto' && config.redis !== undefined);
  return useRedis && config.redis ? new RedisOtpStore(createRedisClient(config.redis), config.redis.keyPrefix) : new MemoryOtpStore();
}

@Module({
  providers: [{ provide: OtpStore, inject: [APP_CONFIG], useFactory: createOtpStore }],
  exports: [OtpStore],
})
export class StoreModule {}
