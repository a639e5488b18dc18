import type { ThrottlerStorage } from '@nestjs/throttler';
import { RedisClient } from './redis-client';

// KEYS: 1 hits (counter of the window), 2 block (set while the key is over its limit).
// ARGV: window ms, limit, block ms, hits wanted. Takes up to that many hits at once, never past
// the limit; a hit over the limit blocks the key. Returns hits counted before this call, window ms
// left, blocked (0/1), block ms left, hits granted.
const TAKE = `
local block_left = redis.call('PTTL', KEYS[2])
if block_left > 0 then
  return {tonumber(redis.call('GET', KEYS[1]) or '0'), math.max(0, redis.call('PTTL', KEYS[1])), 1, block_left, 0}
end
local before = tonumber(redis.call('GET', KEYS[1]) or '0')
local granted = math.min(tonumber(ARGV[4]), tonumber(ARGV[2]) - before)
if granted < 1 then
  local hits = redis.call('INCR', KEYS[1])
  if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return {before, math.max(0, redis.call('PTTL', KEYS[1])), 1, tonumber(ARGV[3]), 0}
end
redis.call('INCRBY', KEYS[1], granted)
if before == 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {before, redis.call('PTTL', KEYS[1]), 0, 0, granted}
`;

/** Hits this instance took from Redis in one call and has not used yet, for one key and window. */
interface Lease {
  windowEndsAt: number;
  /** The window's count in Redis when the last hit was counted here. */
  totalHits: number;
  left: number;
  size: number;
}

/** The most hits one call takes: a client never loses more than this to another instance. */
const MAX_LEASE = 64;
/** A key's lease holds at most this share of its limit, so a small limit is counted hit by hit. */
const LEASE_SHARE_OF_LIMIT = 32;
const SWEEP_ABOVE = 10_000;

/**
 * Fixed-window rate-limit counters in Redis, so limits hold across instances. A client that keeps
 * hitting takes its hits in leases that double (1, 2, 4… up to 64, and at most 1/32 of the limit),
 * counted in Redis when taken, so the limit is never exceeded and a busy client costs one round
 * trip per lease rather than per request. A lease left on one instance may refuse that client a
 * little early on another: the error is on the safe side. See ADR 0004.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly leases = new Map<string, Lease>();
  /** Keys whose next lease is being taken from Redis. */
  private readonly taking = new Map<string, Promise<void>>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
    private readonly now: () => number = Date.now,
  ) {
    redis.defineCommand('throttleTake', { numberOfKeys: 2, lua: TAKE });
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): ReturnType<ThrottlerStorage['increment']> {
    const base = `${this.keyPrefix}rl:${throttlerName}:{${key}}`;
    for (;;) {
      const now = this.now();
      const lease = this.leases.get(base);
      if (lease && lease.left > 0 && lease.windowEndsAt > now) {
        lease.left--;
        return this.admitted(++lease.totalHits, lease.windowEndsAt - now);
      }
      // One lease at a time per key: concurrent requests wait for it instead of each taking one.
      const taking = this.taking.get(base);
      if (!taking) break;
      await taking;
    }
    const taken = this.take(base, ttl, limit, blockDuration);
    this.taking.set(
      base,
      taken.then(
        () => undefined,
        () => undefined,
      ),
    );
    try {
      return await taken;
    } finally {
      this.taking.delete(base);
    }
  }

  private async take(
    base: string,
    ttl: number,
    limit: number,
    blockDuration: number,
  ): ReturnType<ThrottlerStorage['increment']> {
    const now = this.now();
    const lease = this.leases.get(base);
    const size =
      lease && lease.windowEndsAt > now
        ? Math.min(lease.size * 2, MAX_LEASE, Math.max(1, Math.floor(limit / LEASE_SHARE_OF_LIMIT)))
        : 1;
    const redis = this.redis as unknown as { throttleTake(...args: (string | number)[]): Promise<number[]> };
    const [before, windowLeftMs, blocked, blockLeftMs, granted] = await redis.throttleTake(
      `${base}:hits`,
      `${base}:block`,
      ttl,
      limit,
      blockDuration,
      size,
    );
    if (blocked === 1) {
      this.leases.delete(base);
      return {
        totalHits: before + 1,
        timeToExpire: Math.ceil(windowLeftMs / 1000),
        isBlocked: true,
        timeToBlockExpire: Math.ceil(blockLeftMs / 1000),
      };
    }
    if (this.leases.size > SWEEP_ABOVE) this.sweep(now);
    this.leases.set(base, { windowEndsAt: now + windowLeftMs, totalHits: before + 1, left: granted - 1, size });
    return this.admitted(before + 1, windowLeftMs);
  }

  private admitted(totalHits: number, windowLeftMs: number) {
    return { totalHits, timeToExpire: Math.ceil(windowLeftMs / 1000), isBlocked: false, timeToBlockExpire: 0 };
  }

  private sweep(now: number): void {
    for (const [key, lease] of this.leases) if (lease.windowEndsAt <= now) this.leases.delete(key);
  }
}
