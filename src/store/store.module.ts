import { FactoryProvider, InjectionToken, Module } from '@nestjs/common';
import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import { Cluster, Redis } from 'ioredis';
import { AppConfig, RedisConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { ChangeFeed, LocalChangeFeed, RedisChangeFeed } from './change-feed';
import { FallbackJobLock } from './fallback-job-lock';
import { FallbackOtpStore } from './fallback-otp.store';
import { FallbackRevocationList } from './fallback-revocation-list';
import { FallbackThrottlerStorage } from './fallback-throttler.storage';
import { JobLock, MemoryJobLock, RedisJobLock } from './job-lock';
import { MemoryOtpStore } from './memory-otp.store';
import { OtpStore } from './otp-store';
import { RedisClient } from './redis-client';
import { RedisFallback } from './redis-fallback';
import { RedisOtpStore } from './redis-otp.store';
import { RedisRevocationList } from './redis-revocation-list';
import { RedisThrottlerStorage } from './redis-throttler.storage';
import { MemoryRevocationList, RevocationList } from './revocation-list';
import { StoreStatus } from './store-status';

/** Rate-limit counters (a ThrottlerStorage): in Redis when the process uses Redis, else in memory. */
export const RATE_LIMIT_STORAGE = Symbol('RATE_LIMIT_STORAGE');

/** The Redis connections of the process (commands, and pub/sub), or null when state lives in memory. */
export abstract class RedisConnection {
  abstract readonly client: RedisClient | null;
  abstract readonly subscriber: RedisClient | null;
}

export function createRedisClient(redis: RedisConfig): RedisClient {
  const options = {
    maxRetriesPerRequest: 1,
    commandTimeout: redis.commandTimeoutMs,
    connectTimeout: Math.max(redis.commandTimeoutMs, 2000),
  };
  if (redis.cluster) {
    const { nodes, tls, username } = redis.cluster;
    return new Cluster(nodes, {
      scaleReads: 'master',
      enableAutoPipelining: true,
      // With TLS, connect by the names given: certificates name hosts, not the IPs they resolve to.
      ...(tls
        ? { dnsLookup: (address: string, done: (error: null, address: string) => void) => done(null, address) }
        : {}),
      redisOptions: { ...options, username, password: redis.password, ...(tls ? { tls: {} } : {}) },
    });
  }
  const single = {
    ...options,
    enableAutoPipelining: true,
    // A master demoted by a failover (Sentinel, or a managed primary endpoint) answers writes with
    // READONLY: reconnect, to whichever node is master now, and send the command again.
    reconnectOnError: (error: Error) => (/^READONLY\b/.test(error.message) ? (2 as const) : false),
  };
  if (redis.sentinel) {
    const { nodes, name, password: sentinelPassword } = redis.sentinel;
    // failoverDetector: the sentinels' +switch-master reconnects at once, not at the next error.
    return new Redis({
      ...single,
      sentinels: nodes,
      name,
      sentinelPassword,
      password: redis.password,
      db: redis.db,
      failoverDetector: true,
    });
  }
  return redis.url
    ? new Redis(redis.url, single)
    : new Redis({ ...single, host: redis.host, port: redis.port, password: redis.password, db: redis.db });
}

/**
 * A provider of the Redis implementation behind its Fallback* class (memory or a refusal while
 * Redis is away) or, without Redis, of the memory one.
 */
function redisOrMemory<T extends object>(
  token: InjectionToken,
  Fallback: new (redis: T, memory: T, fallback: RedisFallback) => T,
  onRedis: (redis: RedisClient, keyPrefix: string, feed: ChangeFeed) => T,
  inMemory: (config: AppConfig) => T,
): FactoryProvider<T> {
  return {
    provide: token,
    inject: [APP_CONFIG, RedisConnection, StoreStatus, ChangeFeed],
    useFactory: (config: AppConfig, redis: RedisConnection, status: StoreStatus, feed: ChangeFeed) =>
      redis.client
        ? new Fallback(
            onRedis(redis.client, config.redis!.keyPrefix, feed),
            inMemory(config),
            new RedisFallback(status),
          )
        : inMemory(config),
  };
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
        const subscriber = client?.duplicate() ?? null;
        subscriber?.on('error', () => undefined); // the command connection reports outages
        // quit() ends the connection but not a Sentinel client's failover subscriptions; disconnect() does.
        const close = (connection: RedisClient | null) =>
          connection
            ?.quit()
            .catch(() => undefined)
            .finally(() => connection.disconnect());
        return { client, subscriber, onApplicationShutdown: () => Promise.all([close(client), close(subscriber)]) };
      },
    },
    {
      provide: ChangeFeed,
      inject: [APP_CONFIG, RedisConnection],
      useFactory: (config: AppConfig, redis: RedisConnection) =>
        redis.client
          ? new RedisChangeFeed(redis.client, redis.subscriber!, config.redis!.keyPrefix)
          : new LocalChangeFeed(),
    },
    {
      provide: StoreStatus,
      inject: [APP_CONFIG, RedisConnection],
      useFactory: (config: AppConfig, redis: RedisConnection) => new StoreStatus(redis.client, config.redisFallback),
    },
    redisOrMemory<OtpStore>(
      OtpStore,
      FallbackOtpStore,
      (redis, prefix) => new RedisOtpStore(redis, prefix),
      (config) => new MemoryOtpStore(config.memoryStoreMaxEntries),
    ),
    redisOrMemory<ThrottlerStorage>(
      RATE_LIMIT_STORAGE,
      FallbackThrottlerStorage,
      (redis, prefix) => new RedisThrottlerStorage(redis, prefix),
      () => new ThrottlerStorageService(),
    ),
    redisOrMemory<RevocationList>(
      RevocationList,
      FallbackRevocationList,
      (redis, prefix, feed) => new RedisRevocationList(redis, feed, prefix),
      () => new MemoryRevocationList(),
    ),
    redisOrMemory<JobLock>(
      JobLock,
      FallbackJobLock,
      (redis, prefix) => new RedisJobLock(redis, prefix),
      () => new MemoryJobLock(),
    ),
  ],
  exports: [OtpStore, RATE_LIMIT_STORAGE, RevocationList, JobLock, StoreStatus, ChangeFeed],
})
export class StoreModule {}
