import { randomUUID } from 'node:crypto';
import { RedisClient } from './redis-client';

/** How long an instance remembers the last round of a schedule that ran. */
const ROUND_MEMORY_MS = 86_400_000;

/**
 * Runs a periodic job on one instance at a time. With Redis the lock is shared by every
 * instance and expires on its own if its holder dies; in memory it only guards this process.
 */
export abstract class JobLock {
  /** Runs `job` unless another holder has the lock; returns undefined when it did not run. */
  abstract runExclusive<T>(name: string, ttlMs: number, job: () => Promise<T>): Promise<T | undefined>;

  /**
   * Runs `job` for one round of a schedule (rounds only grow, e.g. a tick's time) unless another
   * holder has the lock or has already run this round or a later one. Instances whose timers
   * fire a little apart thus run a tick once between them, not once each after the other.
   */
  abstract runOncePerRound<T>(
    name: string,
    round: number,
    ttlMs: number,
    job: () => Promise<T>,
  ): Promise<T | undefined>;
}

export class MemoryJobLock extends JobLock {
  private readonly held = new Set<string>();
  private readonly lastRounds = new Map<string, number>();

  async runExclusive<T>(name: string, _ttlMs: number, job: () => Promise<T>): Promise<T | undefined> {
    if (this.held.has(name)) return undefined;
    this.held.add(name);
    try {
      return await job();
    } finally {
      this.held.delete(name);
    }
  }

  async runOncePerRound<T>(name: string, round: number, ttlMs: number, job: () => Promise<T>): Promise<T | undefined> {
    if (this.held.has(name) || (this.lastRounds.get(name) ?? -Infinity) >= round) return undefined;
    this.lastRounds.set(name, round);
    return this.runExclusive(name, ttlMs, job);
  }
}

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** KEYS: lock, last round. ARGV: token, lock ttl, round, round memory. */
const CLAIM_ROUND = `
local last = tonumber(redis.call('GET', KEYS[2]))
if last and last >= tonumber(ARGV[3]) then return 0 end
if not redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 0 end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
return 1`;

export class RedisJobLock extends JobLock {
  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
  ) {
    super();
  }

  async runExclusive<T>(name: string, ttlMs: number, job: () => Promise<T>): Promise<T | undefined> {
    const token = randomUUID();
    if ((await this.redis.set(this.lockKey(name), token, 'PX', ttlMs, 'NX')) !== 'OK') return undefined;
    return this.runHolding(name, token, job);
  }

  async runOncePerRound<T>(name: string, round: number, ttlMs: number, job: () => Promise<T>): Promise<T | undefined> {
    const token = randomUUID();
    const claimed = await this.redis.eval(
      CLAIM_ROUND,
      2,
      this.lockKey(name),
      `${this.lockKey(name)}:round`,
      token,
      ttlMs,
      round,
      ROUND_MEMORY_MS,
    );
    if (claimed !== 1) return undefined;
    return this.runHolding(name, token, job);
  }

  private lockKey(name: string): string {
    return `${this.keyPrefix}lock:{${name}}`;
  }

  private async runHolding<T>(name: string, token: string, job: () => Promise<T>): Promise<T> {
    try {
      return await job();
    } finally {
      await this.redis.eval(RELEASE, 1, this.lockKey(name), token).catch(() => undefined);
    }
  }
}
