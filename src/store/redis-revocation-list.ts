import { ChangeFeed } from './change-feed';
import { RedisClient } from './redis-client';
import { MemoryRevocationList, RevocationList } from './revocation-list';

const CHANNEL = 'revoked-sessions';

/**
 * Revoked sessions in one Redis sorted set (member: session id, score: until when), with a copy
 * in this process's memory kept current through the change feed, so checking a token costs no
 * round trip. Revoking writes the set, then announces it. While the copy cannot be trusted
 * (starting up, feed out of sync) each check asks Redis.
 */
export class RedisRevocationList extends RevocationList {
  private readonly copy = new MemoryRevocationList();
  private copyLoaded = false;
  private readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    private readonly feed: ChangeFeed,
    keyPrefix: string,
  ) {
    super();
    this.key = `${keyPrefix}revoked-sessions`;
    feed.subscribe(
      CHANNEL,
      (message) => this.applyMessage(message),
      () => this.reload(),
    );
  }

  async revoke(sessionId: string, untilMs: number, now: number): Promise<void> {
    await this.redis.zadd(this.key, untilMs, sessionId);
    await this.feed.publish(CHANNEL, `${sessionId} ${untilMs}`);
    await this.copy.revoke(sessionId, untilMs, now);
    await this.redis.zremrangebyscore(this.key, '-inf', now);
  }

  async isRevoked(sessionId: string, now: number): Promise<boolean> {
    if (this.copyLoaded && this.feed.inSync) return this.copy.isRevoked(sessionId, now);
    const until = await this.redis.zscore(this.key, sessionId);
    return until !== null && Number(until) > now;
  }

  /** Adds what Redis holds to the copy; revocations are only ever added, so merging is safe. */
  private async reload(): Promise<void> {
    const now = Date.now();
    const entries = await this.redis.zrangebyscore(this.key, now, '+inf', 'WITHSCORES');
    for (let i = 0; i < entries.length; i += 2) await this.copy.revoke(entries[i], Number(entries[i + 1]), now);
    this.copyLoaded = true;
  }

  private applyMessage(message: string): void {
    const [sessionId, until] = message.split(' ');
    void this.copy.revoke(sessionId, Number(until), Date.now());
  }
}
