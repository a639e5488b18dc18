import { timingSafeEqual } from 'node:crypto';
import { FailureBudget, HOUR_MS, IssueLimits, IssueResult, OtpStore, StoredCode, VerifyResult } from './otp-store';

interface MemoryLogin {
  id: string;
  email: string;
  attemptsRemaining: number;
  codes: StoredCode[];
}

interface AddressState {
  login?: MemoryLogin;
  cooldownUntil: number;
  /** Send times within the last hour, oldest first, with the hash they were for. */
  sends: { at: number; hash: string }[];
  failures: number;
  failuresResetAt: number;
}

/**
 * The embedded store: one process, no persistence. Node runs each method without interleaving,
 * so each is atomic. It holds at most `maxAddresses` addresses and refuses new ones beyond that
 * (`store_full`) rather than grow without bound. Expired state is dropped through an index of
 * expiry seconds, so a sweep costs what expired, not what is stored.
 */
export class MemoryOtpStore extends OtpStore {
  private readonly addresses = new Map<string, AddressState>();
  private readonly expiringAt = new Map<number, Set<string>>();
  private sweptUpTo: number | null = null;

  constructor(private readonly maxAddresses = 1_000_000) {
    super();
  }

  get size(): number {
    return this.addresses.size;
  }

  async startLogin(address: string, loginId: string, email: string, code: StoredCode, limits: IssueLimits, now: number): Promise<IssueResult> {
    if (!this.addresses.has(address) && this.addresses.size >= this.maxAddresses) {
      await this.removeExpired(now);
      if (this.addresses.size >= this.maxAddresses) return { outcome: 'store_full' };
    }
    const state = this.stateOf(address, now, true);
    const refused = this.checkSendLimits(state, limits, now);
    if (refused) return refused;
    state.login = { id: loginId, email, attemptsRemaining: limits.maxAttempts, codes: [code] };
    return this.recordSend(address, state, code, limits, now, email);
  }

  async addCode(address: string, loginId: string, code: StoredCode, limits: IssueLimits, now: number): Promise<IssueResult> {
    const state = this.stateOf(address, now);
    const login = state.login;
    if (!login || login.id !== loginId) return { outcome: 'unknown_login' };
    const refused = this.checkSendLimits(state, limits, now);
    if (refused) return refused;
    login.codes = [...login.codes, code].slice(-limits.maxLiveCodes);
    return this.recordSend(address, state, code, limits, now, login.email);
  }

  async verify(address: string, loginId: string, codeHash: string, budget: FailureBudget, now: number): Promise<VerifyResult> {
    const state = this.stateOf(address, now);
    if (state.failures >= budget.maxFailed) return { outcome: 'locked', retryAt: state.failuresResetAt, email: state.login?.email ?? null };
    const login = state.login;
    if (!login || login.id !== loginId) return { outcome: 'expired' };
    const given = Buffer.from(codeHash);
    const matched = login.codes.some((code) => code.hash.length === codeHash.length && timingSafeEqual(Buffer.from(code.hash), given));
    if (matched) {
      state.login = undefined;
      state.failures = 0;
      return { outcome: 'verified', email: login.email };
    }
    login.attemptsRemaining -= 1;
    if (login.attemptsRemaining <= 0) state.login = undefined;
    if (state.failures === 0) state.failuresResetAt = now + budget.windowMs;
    state.failures += 1;
    this.indexExpiry(address, state);
    return {
      outcome: 'invalid',
      email: login.email,
      attemptsRemaining: Math.max(0, login.attemptsRemaining),
      addressLockedUntil: state.failures >= budget.maxFailed ? state.failuresResetAt : null,
    };
  }

  async discardCode(address: string, loginId: string, codeHash: string): Promise<void> {
    const state = this.addresses.get(address);
    if (!state) return;
    if (state.login?.id === loginId) {
      state.login.codes = state.login.codes.filter((code) => code.hash !== codeHash);
      if (state.login.codes.length === 0) state.login = undefined;
    }
    state.sends = state.sends.filter((send) => send.hash !== codeHash);
    state.cooldownUntil = 0;
  }

  async ping(): Promise<void> {}

  /** Drops expired logins, and addresses whose state has wholly expired; returns how many logins. */
  async removeExpired(now: number): Promise<number> {
    const nowSecond = Math.floor(now / 1000);
    let removed = 0;
    for (let second = this.sweptUpTo ?? nowSecond; second <= nowSecond; second++) {
      for (const address of this.expiringAt.get(second) ?? []) {
        const state = this.addresses.get(address);
        if (!state) continue;
        const hadLogin = state.login !== undefined;
        this.stateOf(address, now);
        if (hadLogin && !state.login) removed++;
        if (expiryOf(state) <= now) this.addresses.delete(address);
      }
      this.expiringAt.delete(second);
    }
    this.sweptUpTo = nowSecond + 1;
    return removed;
  }

  /**
   * The address's state with everything past its time dropped. An unknown address gets an empty
   * state that is only kept when `keep` (a new login), so probing ids stores nothing.
   */
  private stateOf(address: string, now: number, keep = false): AddressState {
    this.sweptUpTo ??= Math.floor(now / 1000);
    let state = this.addresses.get(address);
    if (!state) {
      state = { cooldownUntil: 0, sends: [], failures: 0, failuresResetAt: 0 };
      if (keep) this.addresses.set(address, state);
    }
    if (state.login) {
      state.login.codes = state.login.codes.filter((code) => code.expiresAt > now);
      if (state.login.codes.length === 0) state.login = undefined;
    }
    if (state.sends.length > 0 && state.sends[0].at <= now - HOUR_MS) state.sends = state.sends.filter((send) => send.at > now - HOUR_MS);
    if (state.failures > 0 && state.failuresResetAt <= now) state.failures = 0;
    return state;
  }

  private checkSendLimits(state: AddressState, limits: IssueLimits, now: number): IssueResult | undefined {
    if (state.cooldownUntil > now) return { outcome: 'cooldown', retryAt: state.cooldownUntil };
    if (state.sends.length >= limits.maxPerHour) return { outcome: 'hourly_limit', retryAt: state.sends[0].at + HOUR_MS };
    return undefined;
  }

  private recordSend(address: string, state: AddressState, code: StoredCode, limits: IssueLimits, now: number, email: string): IssueResult {
    state.sends.push({ at: now, hash: code.hash });
    state.cooldownUntil = now + limits.cooldownMs;
    this.indexExpiry(address, state);
    return { outcome: 'issued', email, resendAvailableAt: state.cooldownUntil };
  }

  /** Files the address under the seconds its login and its whole state expire. */
  private indexExpiry(address: string, state: AddressState): void {
    const loginEnd = Math.max(0, ...(state.login?.codes.map((code) => code.expiresAt) ?? []));
    for (const at of new Set([loginEnd, expiryOf(state)])) {
      const second = Math.ceil(at / 1000);
      let bucket = this.expiringAt.get(second);
      if (!bucket) this.expiringAt.set(second, (bucket = new Set()));
      bucket.add(address);
    }
  }
}

/** When nothing of the address's state matters any more. */
function expiryOf(state: AddressState): number {
  const codes = state.login?.codes.map((code) => code.expiresAt) ?? [];
  const lastSend = state.sends.length > 0 ? state.sends[state.sends.length - 1].at + HOUR_MS : 0;
  return Math.max(0, state.cooldownUntil, lastSend, state.failures > 0 ? state.failuresResetAt : 0, ...codes);
}
