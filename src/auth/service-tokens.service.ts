import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { secureRandomBytes } from '../common/random';
import { ServiceScope } from '../common/service-scopes';
import { ServiceToken } from './service-token.entity';
import { ServiceTokensRepository } from './service-tokens.repository';
import { TokensService } from './tokens.service';

/** A `jti` as minted here: 128 random bits in hex, which no shell or option parser misreads. */
export const SERVICE_TOKEN_JTI = /^[0-9a-f]{32}$/;

export interface Revocation {
  token: ServiceToken;
  /** It had been revoked before: nothing changed. */
  alreadyRevoked: boolean;
}

/**
 * Service tokens, minted by the operator's command line, which runs apart from the service: each
 * is recorded by its `jti` in the database every instance reads, so revoking it there is seen by
 * all of them at the token's next use.
 */
@Injectable()
export class ServiceTokensService {
  constructor(
    private readonly repository: ServiceTokensRepository,
    private readonly tokens: TokensService,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  async mint(
    service: string,
    scopes: ServiceScope[],
    ttlSeconds: number,
  ): Promise<{ token: string; record: ServiceToken }> {
    const subject = `service:${service}`;
    const scope = scopes.join(' ');
    const jti = secureRandomBytes(16).toString('hex');
    const signed = this.tokens.signAccessToken({ subject, scope, tokenId: jti }, ttlSeconds);
    const record: ServiceToken = {
      jti,
      subject,
      scope,
      issuedAt: new Date(signed.issuedAt),
      expiresAt: new Date(signed.expiresAt),
      revokedAt: null,
    };
    await this.repository.insert(record);
    return { token: signed.token, record };
  }

  /** Null when no such token is recorded (never minted, or expired and cleaned up). */
  async revoke(jti: string): Promise<Revocation | null> {
    const before = await this.repository.findByJti(jti);
    if (!before) return null;
    if (before.revokedAt) return { token: before, alreadyRevoked: true };
    await this.repository.revoke(jti, new Date(this.clock.now()));
    const after = await this.repository.findByJti(jti);
    return after && { token: after, alreadyRevoked: false };
  }

  /** A token without a `jti` was minted before they had one: it cannot have been revoked. */
  isRevoked(jti: unknown): Promise<boolean> {
    return typeof jti === 'string' ? this.repository.isRevoked(jti) : Promise.resolve(false);
  }

  /** Deletes the records of expired tokens in batches: such a token is refused anyway. */
  async deleteExpired(batch: number): Promise<number> {
    const now = new Date(this.clock.now());
    let deleted = 0;
    for (let removed = batch; removed === batch; deleted += removed)
      removed = await this.repository.deleteExpired(now, batch);
    return deleted;
  }
}
