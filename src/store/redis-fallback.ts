import { UnavailableError } from '../common/unavailable.error';
import { StoreStatus } from './store-status';

/** Redis is unreachable and REDIS_FALLBACK=fail: the request is refused rather than served from memory. */
export class StoreUnavailableError extends UnavailableError {
  constructor() {
    super('Redis is unreachable and REDIS_FALLBACK=fail', 5);
  }
}

/** Wraps a callback of the caller's so that the fallback knows once it has begun. */
export type CallerCallback = <T>(callback: () => Promise<T>) => () => Promise<T>;

/**
 * The rule every Fallback* store applies to each call: the Redis implementation while Redis
 * answers; otherwise the memory one, or StoreUnavailableError, as REDIS_FALLBACK says.
 */
export class RedisFallback {
  constructor(private readonly status: Pick<StoreStatus, 'redisReady' | 'fallback' | 'noteServed' | 'noteOutage'>) {}

  /**
   * Script and command errors are real errors and pass through, and so is whatever happens once a
   * callback of the caller's has begun (a job run under a lock; `onRedis` marks it with
   * `callerCallback`): that error is the callback's own, and running the callback again on the
   * memory implementation would repeat it.
   */
  async run<T>(onRedis: (callerCallback: CallerCallback) => Promise<T>, inMemory: () => Promise<T>): Promise<T> {
    if (this.status.redisReady) {
      let calledBack = false;
      const callerCallback: CallerCallback = (callback) => () => {
        calledBack = true;
        return callback();
      };
      try {
        const result = await onRedis(callerCallback);
        this.status.noteServed();
        return result;
      } catch (error) {
        if (calledBack || !isUnavailable(error)) throw error;
        this.status.noteOutage(error.message);
      }
    }
    if (this.status.fallback === 'fail') throw new StoreUnavailableError();
    return inMemory();
  }
}

// Replies by which a reachable node says it cannot serve right now: on a cluster with a master
// down the client stays `ready`, and these are how the outage shows. READONLY: a master demoted
// by a failover, until the client has reconnected to the new one.
const UNAVAILABLE_REPLY = /^(CLUSTERDOWN|TRYAGAIN|MASTERDOWN|LOADING|READONLY)\b/;

/** A connection problem or a node that cannot serve, as opposed to an error of the command itself. */
function isUnavailable(error: unknown): error is Error {
  return error instanceof Error && (error.name !== 'ReplyError' || UNAVAILABLE_REPLY.test(error.message));
}
