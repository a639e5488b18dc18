import { RedisClient } from './redis-client';
import { RevocationList } from './revocation-list';

export class RedisRevocationList extends RevocationList {
  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
  ) {
    super();
  }

  async revoke(sessionId: string, untilMs: number, now: number): Promise<void> {
    await this.redis.set(this.key(sessionId), '1', 'PX', Math.max(1, untilMs - now));
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    return (await this.redis.exists(this.key(sessionId))) === 1;
  }

  private key(sessionId: string): string {
    return `${this.keyPrefix}revoked:${sessionId}`;
  }
}
