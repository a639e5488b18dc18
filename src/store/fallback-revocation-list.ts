import { RedisFallback } from './redis-fallback';
import { RevocationList } from './revocation-list';

/** Revoked sessions in Redis while it answers, else in memory or a refusal (REDIS_FALLBACK). */
export class FallbackRevocationList extends RevocationList {
  constructor(
    private readonly redis: RevocationList,
    private readonly memory: RevocationList,
    private readonly fallback: RedisFallback,
  ) {
    super();
  }

  revoke(sessionId: string, untilMs: number, now: number): Promise<void> {
    return this.fallback.run(
      () => this.redis.revoke(sessionId, untilMs, now),
      () => this.memory.revoke(sessionId, untilMs, now),
    );
  }

  isRevoked(sessionId: string, now: number): Promise<boolean> {
    return this.fallback.run(
      () => this.redis.isRevoked(sessionId, now),
      () => this.memory.isRevoked(sessionId, now),
    );
  }
}
