import type { ThrottlerStorage } from '@nestjs/throttler';
import { RedisClient } from './redis-client';

// KEYS: 1 hits (counter of the window), 2 block (set while the key is over its limit).
// ARGV: window ms, limit, block ms. Returns hits, window ms left, blocked (0/1), block ms left.
const INCREMENT = `
local block_left = redis.call('PTTL', KEYS[2])
if block_left > 0 then
  return {tonumber(redis.call('GET', KEYS[1]) or '0'), math.max(0, redis.call('PTTL', KEYS[1])), 1, block_left}
end
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local window_left = redis.call('PTTL', KEYS[1])
if hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return {hits, window_left, 1, tonumber(ARGV[3])}
end
return {hits, window_left, 0, 0}
`;

/** Fixed-window rate-limit counters in Redis, one script per hit, so limits hold across instances. */
export class RedisThrottlerStorage implements ThrottlerStorage {
  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
  ) {
    redis.defineCommand('throttleIncrement', { numberOfKeys: 2, lua: INCREMENT });
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): ReturnType<ThrottlerStorage['increment']> {
    const base = `${this.keyPrefix}rl:${throttlerName}:{${key}}`;
    const redis = this.redis as unknown as { throttleIncrement(...args: (string | number)[]): Promise<number[]> };
    const [totalHits, windowLeftMs, blocked, blockLeftMs] = await redis.throttleIncrement(
      `${base}:hits`,
      `${base}:block`,
      ttl,
      limit,
      blockDuration,
    );
    return {
      totalHits,
      timeToExpire: Math.ceil(windowLeftMs / 1000),
      isBlocked: blocked === 1,
      timeToBlockExpire: Math.ceil(blockLeftMs / 1000),
    };
  }
}
