import { randomUUID } from 'node:crypto';
import { RedisClient } from './redis-client';

/**
 * Runs a periodic job on one instance at a time. With Redis the lock is shared by every
 * instance and expires on its own if its holder dies; in memory it only guards this process.
 */
export abstract class JobLock {
  /** Runs `job` unless another holder has the lock; returns undefined when it did not run. */
  abstract runExclusive<T>(name: string, ttlMs: number, job: () => Promise<T>): Promise<T | undefined>;
}

export class MemoryJobLock extends JobLock {
  private readonly held = new Set<string>();

  async runExclusive<T>(name: string, _ttlMs: number, job: () => Promise<T>): Promise<T | undefined> {
    if (this.held.has(name)) return undefined;
    this.held.add(name);
    try {
      return await job();
    } finally {
      this.held.delete(name);
    }
  }
}

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export class RedisJobLock extends JobLock {
  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
  ) {
    super();
  }

  async runExclusive<T>(name: string, ttlMs: number, job: () => Promise<T>): Promise<T | undefined> {
    const key = `${this.keyPrefix}lock:${name}`;
    const token = randomUUID();
    if ((await this.redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') return undefined;
    try {
      return await job();
    } finally {
      await this.redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    }
  }
}
