import { Logger } from '@nestjs/common';
import { RedisClient } from './redis-client';
import { MemoryRevocationList, RevocationList } from './revocation-list';

/** However quiet pub/sub has been, the mirror is compared with Redis this often. */
const RESYNC_EVERY_MS = 10_000;

/**
 * Revoked sessions in one Redis sorted set (member: session id, score: until when), mirrored in
 * this process's memory through pub/sub, so checking a token costs no round trip. Revoking
 * writes the set, then publishes; every instance applies the message to its mirror. While the
 * mirror is not known to be complete (starting up, subscription lost) each check asks Redis.
 */
export class RedisRevocationList extends RevocationList {
  private readonly logger = new Logger('RevocationList');
  private readonly mirror = new MemoryRevocationList();
  private inSync = false;
  private readonly key: string;
  private readonly channel: string;

  constructor(
    private readonly redis: RedisClient,
    private readonly subscriber: RedisClient,
    keyPrefix: string,
  ) {
    super();
    this.key = `${keyPrefix}revoked-sessions`;
    this.channel = `${keyPrefix}revoked-sessions`;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.applyMessage(message);
    });
    subscriber.on('ready', () => void this.resync());
    subscriber.on('close', () => (this.inSync = false));
    const timer = setInterval(() => void this.resync(), RESYNC_EVERY_MS).unref();
    subscriber.on('end', () => clearInterval(timer));
  }

  async revoke(sessionId: string, untilMs: number, now: number): Promise<void> {
    await this.redis.zadd(this.key, untilMs, sessionId);
    await this.redis.publish(this.channel, `${sessionId} ${untilMs}`);
    await this.mirror.revoke(sessionId, untilMs, now);
    await this.redis.zremrangebyscore(this.key, '-inf', now);
  }

  async isRevoked(sessionId: string, now: number): Promise<boolean> {
    if (this.inSync) return this.mirror.isRevoked(sessionId, now);
    const until = await this.redis.zscore(this.key, sessionId);
    return until !== null && Number(until) > now;
  }

  /** Subscribes first, then loads the set: a revocation between the two is in one or the other. */
  private async resync(): Promise<void> {
    if (this.subscriber.status !== 'ready') return;
    try {
      await this.subscriber.subscribe(this.channel);
      const now = Date.now();
      const entries = await this.redis.zrangebyscore(this.key, now, '+inf', 'WITHSCORES');
      for (let i = 0; i < entries.length; i += 2) await this.mirror.revoke(entries[i], Number(entries[i + 1]), now);
      this.inSync = this.subscriber.status === 'ready';
    } catch (error) {
      this.inSync = false;
      this.logger.warn(`Revocations could not be loaded (${(error as Error).message}); checking Redis per request until they are`);
    }
  }

  private applyMessage(message: string): void {
    const [sessionId, until] = message.split(' ');
    void this.mirror.revoke(sessionId, Number(until), Date.now());
  }
}
