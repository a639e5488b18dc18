/**
 * What a login proves: a sign-in, or an address change of a signed-in user (the code goes to the
 * new address). An address holds one login of each kind; both share its counters (cooldown,
 * hourly cap, failure budget), so neither kind gets the address more codes or guesses.
 */
export type LoginKind = 'sign-in' | 'email-change';

/** A code as the store keeps it: its keyed hash and when it stops working (epoch ms). */
export interface StoredCode {
  hash: string;
  expiresAt: number;
}

/** Per-address limits applied when a code is issued. */
export interface IssueLimits {
  cooldownMs: number;
  maxPerHour: number;
  maxLiveCodes: number;
  maxAttempts: number;
}

/**
 * Failure budget of an address across all its logins and client IPs. `maxFailed` wrong codes lock
 * the address for `firstLockMs`; each further wrong code (one per lock) doubles the lock up to
 * `maxLockMs`; from `maxInARow` on, every wrong code locks it for the whole window. Failures are
 * forgotten `windowMs` after the last one, or after the lock it caused ends; a sign-in resets them.
 */
export interface FailureBudget {
  maxFailed: number;
  windowMs: number;
  firstLockMs: number;
  maxLockMs: number;
  maxInARow: number;
}

/** How long the `failures`-th wrong code in a row locks the address (0: not at all). The Redis script mirrors it. */
export function lockMsAfter(failures: number, budget: FailureBudget): number {
  if (failures < budget.maxFailed) return 0;
  if (failures >= budget.maxInARow) return Math.max(budget.windowMs, budget.maxLockMs);
  return Math.min(budget.firstLockMs * 2 ** (failures - budget.maxFailed), budget.maxLockMs);
}

export type IssueResult =
  | { outcome: 'issued'; email: string; resendAvailableAt: number }
  | { outcome: 'cooldown'; retryAt: number }
  | { outcome: 'hourly_limit'; retryAt: number }
  | { outcome: 'unknown_login' }
  /** The address is locked by its failure budget: no code is mailed to it. */
  | { outcome: 'locked'; retryAt: number }
  /** The memory store is at its size limit. */
  | { outcome: 'store_full' };

export type VerifyResult =
  | { outcome: 'verified'; email: string }
  | { outcome: 'invalid'; email: string; attemptsRemaining: number; addressLockedUntil: number | null }
  | { outcome: 'expired' }
  | { outcome: 'locked'; retryAt: number; email: string | null };

export const HOUR_MS = 3_600_000;
/** How long a login ended by a right code can still be restored. */
export const RESTORABLE_MS = 60_000;

/**
 * Live one-time-code logins, at most one per address, and the per-address counters around them.
 * Every method is one atomic step, so concurrent requests on any number of instances see a login
 * succeed at most once and every wrong attempt counted. `address` is an opaque key derived from
 * the email; `now` is the caller's clock (epoch ms).
 */
export abstract class OtpStore {
  /** Starts a login, ending any earlier one of the address, unless cooldown or hourly cap forbid. */
  abstract startLogin(
    address: string,
    loginId: string,
    email: string,
    code: StoredCode,
    limits: IssueLimits,
    now: number,
    kind?: LoginKind,
  ): Promise<IssueResult>;

  /** Adds a code to a live login, keeping its newest `maxLiveCodes` codes. */
  abstract addCode(
    address: string,
    loginId: string,
    code: StoredCode,
    limits: IssueLimits,
    now: number,
  ): Promise<IssueResult>;

  /**
   * Checks a code hash against the login's live codes, spending one attempt when it is wrong. A
   * right code ends the login, but it can be restored for a short while (`restoreLogin`).
   */
  abstract verify(
    address: string,
    loginId: string,
    codeHash: string,
    budget: FailureBudget,
    now: number,
    kind?: LoginKind,
  ): Promise<VerifyResult>;

  /**
   * Gives back a login that a right code ended, when what should have followed (recording the
   * sign-in) failed, so the user keeps a usable code. Does nothing once a newer login started.
   */
  abstract restoreLogin(address: string, loginId: string, now: number): Promise<void>;

  /** Withdraws a code whose mail could not be sent, and gives its cooldown and hourly slot back. */
  abstract discardCode(address: string, loginId: string, codeHash: string, kind?: LoginKind): Promise<void>;

  abstract ping(): Promise<void>;

  /** Drops what has expired, for stores that do not expire entries themselves; returns how many. */
  abstract removeExpired(now: number): Promise<number>;
}
