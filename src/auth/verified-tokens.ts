import { Injectable } from '@nestjs/common';
import { ExpiringCache } from '../common/expiring-cache';
import { Principal } from '../common/principal';

/** How many tokens an instance remembers: a lookup instead of an ECDSA check per request. */
const VERIFIED_TOKENS_KEPT = 20_000;

/**
 * Access tokens known to be ours and valid, by their exact text, until they expire: the ones this
 * instance signed and the ones it verified. Revocation is not remembered here; it is checked on
 * every request.
 */
@Injectable()
export class VerifiedTokens {
  private readonly tokens = new ExpiringCache<string, Principal>(VERIFIED_TOKENS_KEPT);

  principalOf(token: string, now: number): Principal | undefined {
    return this.tokens.get(token, now);
  }

  remember(token: string, principal: Principal, expiresAt: number): void {
    this.tokens.set(token, principal, expiresAt);
  }
}
