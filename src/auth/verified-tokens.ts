import { Principal } from './principal';

export interface VerifiedToken {
  principal: Principal;
  /** The token's `exp`, epoch ms. */
  expiresAt: number;
}

const MAX_ENTRIES = 20_000;

/**
 * Access tokens whose signature and claims were already checked, by their exact text, until
 * they expire: a client repeating its token costs a map lookup instead of an ECDSA verification.
 * Revocation is not cached; it is checked on every request. Oldest entries go first when full.
 */
export class VerifiedTokens {
  private readonly byToken = new Map<string, VerifiedToken>();

  constructor(private readonly maxEntries = MAX_ENTRIES) {}

  get(token: string, now: number): VerifiedToken | undefined {
    const verified = this.byToken.get(token);
    if (verified && verified.expiresAt <= now) {
      this.byToken.delete(token);
      return undefined;
    }
    return verified;
  }

  remember(token: string, verified: VerifiedToken): void {
    if (this.byToken.size >= this.maxEntries) this.byToken.delete(this.byToken.keys().next().value!);
    this.byToken.set(token, verified);
  }
}
