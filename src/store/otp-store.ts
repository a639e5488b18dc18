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

/** Failure budget of an address across all its logins. */
export interface FailureBudget {
  maxFailed: number;
  windowMs: number;
}

export type IssueResult =
  | { outcome: 'issued'; email: string; resendAvailableAt: number }
  | { outcome: 'cooldown'; retryAt: number }
  | { outcome: 'hourly_limit'; retryAt: number }
  | { outcome: 'unknown_login' }
  /** The memory store is at its size limit. */
  | { outcome: 'store_full' };

export type VerifyResult =
  | { outcome: 'verified'; email: string }
  | { outcome: 'invalid'; email: string; attemptsRemaining: number; addressLockedUntil: number | null }
  | { outcome: 'expired' }
  | { outcome: 'locked'; retryAt: number; email: string | null };

export const HOUR_MS = 3_600_000;

/**
 * Live one-time-code logins, at most one per address, and the per-address counters around them.
 * Every method is one atomic step, so concurrent requests on any number of instances see a login
 * succeed at most once and every wrong attempt counted. `address` is an opaque key derived from
 * the email; `now` is the caller's clock (epoch ms).
 */
export abstract class OtpStore {
  /** Starts a login, ending any earlier one of the address, unless cooldown or hourly cap forbid. */
  abstract startLogin(address: string, loginId: string, email: string, code: StoredCode, limits: IssueLimits, now: number): Promise<IssueResult>;

  /** Adds a code to a live login, keeping its newest `maxLiveCodes` codes. */
  abstract addCode(address: string, loginId: string, code: StoredCode, limits: IssueLimits, now: number): Promise<IssueResult>;

  /** Checks a code hash against the login's live codes, spending one attempt when it is wrong. */
  abstract verify(address: string, loginId: string, codeHash: string, budget: FailureBudget, now: number): Promise<VerifyResult>;

  /** Withdraws a code whose mail could not be sent, and gives its cooldown and hourly slot back. */
  abstract discardCode(address: string, loginId: string, codeHash: string): Promise<void>;

  abstract ping(): Promise<void>;

  /** Drops what has expired, for stores that do not expire entries themselves; returns how many. */
  abstract removeExpired(now: number): Promise<number>;
}
