import { AppConfig } from '../config/app-config';
import { FailureBudget, IssueLimits } from '../store/otp-store';

const MINUTE_MS = 60_000;
/** The address lock: 15 minutes at first, doubling with each further wrong code up to an hour. */
const FIRST_LOCK_MS = 15 * MINUTE_MS;
const MAX_LOCK_MS = 60 * MINUTE_MS;
/** NIST SP 800-63B: at most 100 failed attempts in a row; from then on each one locks for the whole window. */
const MAX_FAILURES_IN_A_ROW = 100;

/**
 * Every limit of a login in one place: the configured ones (OTP_*) and the fixed lock schedule.
 * The stores enforce them atomically; see docs/security.md for their arithmetic.
 */
export interface OtpPolicy {
  /** Per address: cooldown between codes, codes per hour, live codes per login, wrong codes per login. */
  issue: IssueLimits;
  /** Per address: wrong codes across logins before it locks, and how long the locks last. */
  failures: FailureBudget;
  codeLength: number;
  codeTtlMs: number;
}

export function otpPolicy({ otp }: AppConfig): OtpPolicy {
  return {
    issue: {
      cooldownMs: otp.resendCooldownSeconds * 1000,
      maxPerHour: otp.maxPerHour,
      maxLiveCodes: otp.maxLiveCodes,
      maxAttempts: otp.maxAttempts,
    },
    failures: {
      maxFailed: otp.maxFailedPerAddress,
      windowMs: otp.failedWindowSeconds * 1000,
      firstLockMs: FIRST_LOCK_MS,
      maxLockMs: MAX_LOCK_MS,
      maxInARow: MAX_FAILURES_IN_A_ROW,
    },
    codeLength: otp.length,
    codeTtlMs: otp.ttlSeconds * 1000,
  };
}
