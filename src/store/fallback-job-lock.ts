import { JobLock } from './job-lock';
import { RedisFallback } from './redis-fallback';

/**
 * The lock in Redis while it answers, else in memory or a refusal (REDIS_FALLBACK). The job is
 * the caller's callback: once it has begun, its errors are its own and it is not run again.
 */
export class FallbackJobLock extends JobLock {
  constructor(
    private readonly redis: JobLock,
    private readonly memory: JobLock,
    private readonly fallback: RedisFallback,
  ) {
    super();
  }

  runExclusive<T>(name: string, ttlMs: number, job: () => Promise<T>): Promise<T | undefined> {
    return this.fallback.run(
      (callerCallback) => this.redis.runExclusive(name, ttlMs, callerCallback(job)),
      () => this.memory.runExclusive(name, ttlMs, job),
    );
  }

  runOncePerRound<T>(name: string, round: number, ttlMs: number, job: () => Promise<T>): Promise<T | undefined> {
    return this.fallback.run(
      (callerCallback) => this.redis.runOncePerRound(name, round, ttlMs, callerCallback(job)),
      () => this.memory.runOncePerRound(name, round, ttlMs, job),
    );
  }
}
