import { Injectable } from '@nestjs/common';
import { ExpiringCache } from '../common/expiring-cache';
import { Principal } from '../common/principal';

/** How many tokens an instance remembers: a lookup instead of an ECDSA check per request. */
const VERIFIED_TOKENS_KEPT = 20_000;

/** An access token whose signature and claims passed: whom it speaks for, and its `jti` if it has one. */
export interface VerifiedToken {
  principal: Principal;
  tokenId: string | null;
}

/**
 * Access tokens known to be ours and valid, by their exact text, until they expire: the ones this
 * instance signed and the ones it verified. Revocation is not remembered here; it is checked on
 * every request.
 */
@Injectable()
export class VerifiedTokens {
  private readonly tokens = new ExpiringCache<string, VerifiedToken>(VERIFIED_TOKENS_KEPT);

  find(token: string, now: number): VerifiedToken | undefined {
    return this.tokens.get(token, now);
  }

  /** `expiresAt` is the token's `exp` in epoch ms: an entry never outlives its token. */
  remember(token: string, verified: VerifiedToken, expiresAt: number): void {
    this.tokens.set(token, verified, expiresAt);
  }
}
