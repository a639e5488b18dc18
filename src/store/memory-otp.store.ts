import { timingSafeEqual } from 'node:crypto';
import {
  FailureBudget,
  HOUR_MS,
  IssueLimits,
  IssueResult,
  lockMsAfter,
  LoginKind,
  OtpStore,
  RESTORABLE_MS,
  StoredCode,
  VerifyResult,
} from './otp-store';

interface Login {
  id: string;
  email: string;
  attemptsLeft: number;
  /** Live codes, oldest first. */
  codes: StoredCode[];
}

/** Everything the store knows of one address (times are epoch ms). */
interface AddressState {
  login?: Login;
  /** A signed-in user's change to this address: a login of its own, under the same counters. */
  change?: Login;
  /** A login that a right code ended, kept a moment in case its sign-in cannot be recorded. */
  ended?: { login: Login; until: number };
  cooldownUntil: number;
  /** Code hashes sent within the last hour, with when. */
  sends: { hash: string; at: number }[];
  failures: number;
  lockedUntil: number;
  failuresForgottenAt: number;
}

/**
 * The embedded store: one process, no persistence, a Map of plain objects. No method awaits
 * before it is done, so each is atomic. It holds at most `maxAddresses` addresses and refuses new
 * ones beyond that (`store_full`) rather than evict one and give its limits back.
 */
export class MemoryOtpStore extends OtpStore {
  private readonly addresses = new Map<string, AddressState>();

  constructor(private readonly maxAddresses = 100_000) {
    super();
  }

  get size(): number {
    return this.addresses.size;
  }

  async startLogin(
    address: string,
    loginId: string,
    email: string,
    code: StoredCode,
    limits: IssueLimits,
    now: number,
    kind: LoginKind = 'sign-in',
  ): Promise<IssueResult> {
    let state = this.addresses.get(address);
    if (!state) {
      if (this.addresses.size >= this.maxAddresses) this.sweep(now);
      if (this.addresses.size >= this.maxAddresses) return { outcome: 'store_full' };
      state = { cooldownUntil: 0, sends: [], failures: 0, lockedUntil: 0, failuresForgottenAt: 0 };
      this.addresses.set(address, state);
    }
    prune(state, now);
    const refused = refusal(state, limits, now);
    if (refused) {
      this.forgetIfEmpty(address, state, now);
      return refused;
    }
    const login = { id: loginId, email, attemptsLeft: limits.maxAttempts, codes: [] };
    if (kind === 'email-change') state.change = login;
    else {
      state.login = login;
      state.ended = undefined;
    }
    return recordSend(state, login, code, limits, now);
  }

  async addCode(
    address: string,
    loginId: string,
    code: StoredCode,
    limits: IssueLimits,
    now: number,
  ): Promise<IssueResult> {
    const state = this.addresses.get(address);
    if (!state) return { outcome: 'unknown_login' };
    prune(state, now);
    const login = state.login;
    if (login?.id !== loginId) return { outcome: 'unknown_login' };
    return refusal(state, limits, now) ?? recordSend(state, login, code, limits, now);
  }

  async verify(
    address: string,
    loginId: string,
    codeHash: string,
    budget: FailureBudget,
    now: number,
    kind: LoginKind = 'sign-in',
  ): Promise<VerifyResult> {
    const state = this.addresses.get(address);
    if (!state) return { outcome: 'expired' };
    prune(state, now);
    const login = kind === 'sign-in' ? state.login : state.change;
    if (state.lockedUntil > now) return { outcome: 'locked', retryAt: state.lockedUntil, email: login?.email ?? null };
    if (login?.id !== loginId) return { outcome: 'expired' };

    if (login.codes.some((code) => sameText(code.hash, codeHash))) {
      if (kind === 'sign-in') {
        state.login = undefined;
        state.ended = { login, until: now + RESTORABLE_MS };
      } else state.change = undefined;
      state.failures = 0;
      return { outcome: 'verified', email: login.email };
    }
    login.attemptsLeft--;
    if (login.attemptsLeft <= 0) {
      if (kind === 'sign-in') state.login = undefined;
      else state.change = undefined;
    }
    state.failures++;
    const lockMs = lockMsAfter(state.failures, budget);
    if (lockMs > 0) state.lockedUntil = now + lockMs;
    state.failuresForgottenAt = Math.max(now, state.lockedUntil) + budget.windowMs;
    return {
      outcome: 'invalid',
      email: login.email,
      attemptsRemaining: Math.max(0, login.attemptsLeft),
      addressLockedUntil: lockMs > 0 ? state.lockedUntil : null,
    };
  }

  async restoreLogin(address: string, loginId: string, now: number): Promise<void> {
    const state = this.addresses.get(address);
    if (!state?.ended || state.login || state.ended.login.id !== loginId || state.ended.until <= now) return;
    state.login = state.ended.login;
    state.ended = undefined;
  }

  async discardCode(address: string, loginId: string, codeHash: string, kind: LoginKind = 'sign-in'): Promise<void> {
    const state = this.addresses.get(address);
    if (!state) return;
    const login = kind === 'sign-in' ? state.login : state.change;
    if (login?.id === loginId) {
      login.codes = login.codes.filter((code) => code.hash !== codeHash);
      if (login.codes.length === 0) {
        if (kind === 'sign-in') state.login = undefined;
        else state.change = undefined;
      }
    }
    state.sends = state.sends.filter((send) => send.hash !== codeHash);
    state.cooldownUntil = 0;
    this.forgetIfEmpty(address, state, 0);
  }

  async ping(): Promise<void> {}

  /** Drops expired logins, and addresses of which nothing is left; returns how many logins. */
  async removeExpired(now: number): Promise<number> {
    return this.sweep(now);
  }

  private sweep(now: number): number {
    let endedLogins = 0;
    for (const [address, state] of this.addresses) {
      if (prune(state, now)) endedLogins++;
      this.forgetIfEmpty(address, state, now);
    }
    return endedLogins;
  }

  private forgetIfEmpty(address: string, state: AddressState, now: number): void {
    const empty =
      !state.login &&
      !state.change &&
      !state.ended &&
      state.sends.length === 0 &&
      state.cooldownUntil <= now &&
      state.failures === 0;
    if (empty) this.addresses.delete(address);
  }
}

/** Drops what is past its time; true when that ended the login. */
function prune(state: AddressState, now: number): boolean {
  const hourAgo = now - HOUR_MS;
  if (state.sends.length > 0 && state.sends[0].at <= hourAgo)
    state.sends = state.sends.filter((send) => send.at > hourAgo);
  if (state.failures > 0 && state.failuresForgottenAt <= now) {
    state.failures = 0;
    state.lockedUntil = 0;
  }
  if (state.ended && state.ended.until <= now) state.ended = undefined;
  if (state.change && state.change.codes.every((code) => code.expiresAt <= now)) state.change = undefined;
  const login = state.login;
  if (!login || login.codes.every((code) => code.expiresAt > now)) return false;
  login.codes = login.codes.filter((code) => code.expiresAt > now);
  if (login.codes.length > 0) return false;
  state.login = undefined;
  return true;
}

function refusal(state: AddressState, limits: IssueLimits, now: number): IssueResult | undefined {
  if (state.lockedUntil > now) return { outcome: 'locked', retryAt: state.lockedUntil };
  if (state.cooldownUntil > now) return { outcome: 'cooldown', retryAt: state.cooldownUntil };
  if (state.sends.length >= limits.maxPerHour) return { outcome: 'hourly_limit', retryAt: state.sends[0].at + HOUR_MS };
  return undefined;
}

function recordSend(
  state: AddressState,
  login: Login,
  code: StoredCode,
  limits: IssueLimits,
  now: number,
): IssueResult {
  login.codes.push(code);
  if (login.codes.length > limits.maxLiveCodes) login.codes.splice(0, login.codes.length - limits.maxLiveCodes);
  state.sends.push({ hash: code.hash, at: now });
  state.cooldownUntil = now + limits.cooldownMs;
  return { outcome: 'issued', email: login.email, resendAvailableAt: state.cooldownUntil };
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
