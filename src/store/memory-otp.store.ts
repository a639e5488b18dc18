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

/** The embedded store: one process, no persistence. Node runs each method without interleaving. */
export class MemoryOtpStore extends OtpStore {
  readonly kind = 'memory' as const;
  private readonly addresses = new Map<string, AddressState>();

  async startLogin(address: string, loginId: string, email: string, code: StoredCode, limits: IssueLimits, now: number): Promise<IssueResult> {
    const state = this.stateOf(address, now);
    const refused = this.checkSendLimits(state, limits, now);
    if (refused) return refused;
    state.login = { id: loginId, email, attemptsRemaining: limits.maxAttempts, codes: [code] };
    return this.recordSend(state, code, limits, now, email);
  }

  async addCode(address: string, loginId: string, code: StoredCode, limits: IssueLimits, now: number): Promise<IssueResult> {
    const state = this.stateOf(address, now);
    const login = state.login;
    if (!login || login.id !== loginId) return { outcome: 'unknown_login' };
    const refused = this.checkSendLimits(state, limits, now);
    if (refused) return refused;
    login.codes = [...login.codes, code].slice(-limits.maxLiveCodes);
    return this.recordSend(state, code, limits, now, login.email);
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

  async removeExpired(now: number): Promise<number> {
    let removed = 0;
    for (const [address, state] of this.addresses) {
      const hadLogin = state.login !== undefined;
      this.stateOf(address, now);
      if (hadLogin && !state.login) removed++;
      if (!state.login && state.sends.length === 0 && state.failures === 0 && state.cooldownUntil <= now) this.addresses.delete(address);
    }
    return removed;
  }

  /** The address's state with everything past its time dropped. */
  private stateOf(address: string, now: number): AddressState {
    let state = this.addresses.get(address);
    if (!state) {
      state = { cooldownUntil: 0, sends: [], failures: 0, failuresResetAt: 0 };
      this.addresses.set(address, state);
    }
    if (state.login) {
      state.login.codes = state.login.codes.filter((code) => code.expiresAt > now);
      if (state.login.codes.length === 0) state.login = undefined;
    }
    state.sends = state.sends.filter((send) => send.at > now - HOUR_MS);
    if (state.failures > 0 && state.failuresResetAt <= now) state.failures = 0;
    return state;
  }

  private checkSendLimits(state: AddressState, limits: IssueLimits, now: number): IssueResult | undefined {
    if (state.cooldownUntil > now) return { outcome: 'cooldown', retryAt: state.cooldownUntil };
    if (state.sends.length >= limits.maxPerHour) return { outcome: 'hourly_limit', retryAt: state.sends[0].at + HOUR_MS };
    return undefined;
  }

  private recordSend(state: AddressState, code: StoredCode, limits: IssueLimits, now: number, email: string): IssueResult {
    state.sends.push({ at: now, hash: code.hash });
    state.cooldownUntil = now + limits.cooldownMs;
    return { outcome: 'issued', email, resendAvailableAt: state.cooldownUntil };
  }
}
