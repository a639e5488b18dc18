import type { ThrottlerStorage } from '@nestjs/throttler';
import { RedisFallback } from './redis-fallback';

/** Rate-limit counters in Redis while it answers, else in memory or a refusal (REDIS_FALLBACK). */
export class FallbackThrottlerStorage implements ThrottlerStorage {
  constructor(
    private readonly redis: ThrottlerStorage,
    private readonly memory: ThrottlerStorage,
    private readonly fallback: RedisFallback,
  ) {}

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): ReturnType<ThrottlerStorage['increment']> {
    return this.fallback.run(
      () => this.redis.increment(key, ttl, limit, blockDuration, throttlerName),
      () => this.memory.increment(key, ttl, limit, blockDuration, throttlerName),
    );
  }
}
