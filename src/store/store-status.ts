import { Logger } from '@nestjs/common';
import { ProblemException } from '../common/problem.exception';
import { RedisClient } from './redis-client';

export type StoreState = 'up' | 'degraded' | 'down';

/**
 * Whether Redis can be used right now, and what to do while it cannot (REDIS_FALLBACK): serve
 * from this process's memory (`degraded`) or refuse with 503 (`down`). ioredis keeps
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

/**
 * The Redis implementation while Redis answers; otherwise the memory one, or a 503, as
 * REDIS_FALLBACK says. Script errors are real errors and pass through, and so is whatever
 * happens once a callback of the caller's has begun (a job run under a lock): that error is the
 * callback's own, and running the callback again on the memory implementation would repeat it.
 */
export function withFallback<T extends object>(
  redisImplementation: T,
  memoryImplementation: T,
  status: StoreStatus,
): T {
  return new Proxy(redisImplementation, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (status.redisReady) {
          let calledBack = false;
          const tracked = args.map((arg) =>
            typeof arg === 'function'
              ? (...callbackArgs: unknown[]) => {
                  calledBack = true;
                  return (arg as (...a: unknown[]) => unknown)(...callbackArgs);
                }
              : arg,
          );
          try {
            const result: unknown = await (value as (...args: unknown[]) => Promise<unknown>).apply(target, tracked);
            status.noteServed();
            return result;
          } catch (error) {
            if (calledBack || !isUnavailable(error as Error)) throw error;
            status.noteOutage((error as Error).message);
          }
        }
        if (status.fallback === 'fail')
          throw new ProblemException(
            'service_unavailable',
            'The service is briefly unavailable; try again in a moment.',
            { retryAfterSeconds: 5 },
          );
        const fallback = Reflect.get(memoryImplementation, property) as (...args: unknown[]) => unknown;
        return fallback.apply(memoryImplementation, args);
      };
    },
  });
}

// Replies by which a reachable node says it cannot serve right now: on a cluster with a master
// down the client stays `ready`, and these are how the outage shows. READONLY: a master demoted
// by a failover, until the client has reconnected to the new one.
const UNAVAILABLE_REPLY = /^(CLUSTERDOWN|TRYAGAIN|MASTERDOWN|LOADING|READONLY)\b/;

/** A connection problem or a node that cannot serve, as opposed to an error of the command itself. */
function isUnavailable(error: Error): boolean {
  return error.name !== 'ReplyError' || UNAVAILABLE_REPLY.test(error.message);
}
