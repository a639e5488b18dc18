import { Logger } from '@nestjs/common';
import { RedisClient } from './redis-client';

export type StoreState = 'up' | 'degraded' | 'down';

/**
 * Whether Redis can be used right now, and what to do while it cannot (REDIS_FALLBACK): serve
 * from this process's memory (`degraded`) or refuse (`down`, StoreUnavailableError). ioredis keeps
 * reconnecting; the first `ready` puts Redis back in use.
 */
export class StoreStatus {
  private readonly logger = new Logger('Store');
  private outageSince: number | null = null;

  constructor(
    private readonly redis: RedisClient | null,
    readonly fallback: 'memory' | 'fail',
  ) {
    redis?.on('ready', () => this.endOutage());
    redis?.on('close', () => this.noteOutage('connection closed'));
    redis?.on('error', (error: Error) => this.noteOutage(error.message));
  }

  get kind(): 'redis' | 'memory' {
    return this.redis ? 'redis' : 'memory';
  }

  get redisReady(): boolean {
    return this.redis?.status === 'ready';
  }

  /**
   * Down from a lost connection or from a command Redis could not serve (a cluster that lost a
   * master stays connected) until the connection is ready again or a command succeeds.
   */
  get state(): StoreState {
    if (!this.redis || (this.redisReady && this.outageSince === null)) return 'up';
    return this.fallback === 'memory' ? 'degraded' : 'down';
  }

  /** A command Redis answered. */
  noteServed(): void {
    if (this.redisReady) this.endOutage();
  }

  noteOutage(reason: string): void {
    if (this.outageSince !== null || !this.redis) return;
    this.outageSince = Date.now();
    const consequence =
      this.fallback === 'memory'
        ? 'serving from memory (REDIS_FALLBACK=memory)'
        : 'answering 503 (REDIS_FALLBACK=fail)';
    this.logger.warn(`Redis is unreachable (${reason}); ${consequence} until it is back`);
  }

  private endOutage(): void {
    if (this.outageSince === null) return;
    this.logger.log(
      `Redis is reachable again after ${Math.round((Date.now() - this.outageSince) / 1000)} s; using it again`,
    );
    this.outageSince = null;
  }
}
