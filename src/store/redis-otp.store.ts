import {
  FailureBudget,
  IssueLimits,
  IssueResult,
  LoginKind,
  OtpStore,
  RESTORABLE_MS,
  StoredCode,
  VerifyResult,
} from './otp-store';
import { RedisClient } from './redis-client';
import { ADD_CODE, DISCARD_CODE, RESTORE_LOGIN, START_LOGIN, VERIFY } from './redis-otp.scripts';

type ScriptReply = (string | number | null)[];

interface OtpCommands {
  otpStartLogin(...args: (string | number)[]): Promise<ScriptReply>;
  otpAddCode(...args: (string | number)[]): Promise<ScriptReply>;
  otpVerify(...args: (string | number)[]): Promise<ScriptReply>;
  otpDiscardCode(...args: (string | number)[]): Promise<ScriptReply>;
  otpRestoreLogin(...args: (string | number)[]): Promise<ScriptReply>;
}

/** The production store: one Lua script per operation, so each is atomic across instances. */
export class RedisOtpStore extends OtpStore {
  private readonly commands: OtpCommands;

  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
  ) {
    super();
    redis.defineCommand('otpStartLogin', { numberOfKeys: 5, lua: START_LOGIN });
    redis.defineCommand('otpAddCode', { numberOfKeys: 5, lua: ADD_CODE });
    redis.defineCommand('otpVerify', { numberOfKeys: 5, lua: VERIFY });
    redis.defineCommand('otpDiscardCode', { numberOfKeys: 5, lua: DISCARD_CODE });
    redis.defineCommand('otpRestoreLogin', { numberOfKeys: 5, lua: RESTORE_LOGIN });
    this.commands = redis as unknown as OtpCommands;
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
    const reply = await this.commands.otpStartLogin(
      ...this.keys(address, kind),
      loginId,
      email,
      code.hash,
      code.expiresAt,
      now,
      limits.cooldownMs,
      limits.maxPerHour,
      limits.maxAttempts,
    );
    return issueResult(reply);
  }

  async addCode(
    address: string,
    loginId: string,
    code: StoredCode,
    limits: IssueLimits,
    now: number,
  ): Promise<IssueResult> {
    const reply = await this.commands.otpAddCode(
      ...this.keys(address),
      loginId,
      code.hash,
      code.expiresAt,
      now,
      limits.cooldownMs,
      limits.maxPerHour,
      limits.maxLiveCodes,
    );
    return issueResult(reply);
  }

  async verify(
    address: string,
    loginId: string,
    codeHash: string,
    budget: FailureBudget,
    now: number,
    kind: LoginKind = 'sign-in',
  ): Promise<VerifyResult> {
    const [outcome, first, second, third] = await this.commands.otpVerify(
      ...this.keys(address, kind),
      loginId,
      codeHash,
      now,
      budget.maxFailed,
      budget.windowMs,
      budget.firstLockMs,
      budget.maxLockMs,
      budget.maxInARow,
      RESTORABLE_MS,
    );
    switch (outcome) {
      case 'verified':
        return { outcome, email: String(first) };
      case 'invalid':
        return {
          outcome,
          email: String(third),
          attemptsRemaining: Number(first),
          addressLockedUntil: Number(second) > 0 ? Number(second) : null,
        };
      case 'locked':
        return { outcome, retryAt: Number(first), email: second ? String(second) : null };
      default:
        return { outcome: 'expired' };
    }
  }

  async restoreLogin(address: string, loginId: string, now: number): Promise<void> {
    await this.commands.otpRestoreLogin(...this.keys(address), loginId, now);
  }

  async discardCode(address: string, loginId: string, codeHash: string, kind: LoginKind = 'sign-in'): Promise<void> {
    await this.commands.otpDiscardCode(...this.keys(address, kind), loginId, codeHash);
  }

  /** A keyed read, not PING: a cluster that lost a master answers PING but refuses keys. */
  async ping(): Promise<void> {
    await this.redis.exists(`${this.keyPrefix}health`);
  }

  /** Redis expires every key itself. */
  async removeExpired(): Promise<number> {
    return 0;
  }

  /** The address's keys; each kind of login has its own login keys, the counters are shared. */
  private keys(address: string, kind: LoginKind = 'sign-in'): [string, string, string, string, string] {
    const base = `${this.keyPrefix}{${address}}`;
    const login = kind === 'sign-in' ? 'login' : 'email-change';
    return [
      `${base}:${login}`,
      `${base}:cooldown`,
      `${base}:sends`,
      `${base}:failure-budget`,
      `${base}:ended-${login}`,
    ];
  }
}

function issueResult([outcome, at, email]: ScriptReply): IssueResult {
  switch (outcome) {
    case 'issued':
      return { outcome, resendAvailableAt: Number(at), email: String(email) };
    case 'cooldown':
    case 'hourly_limit':
    case 'locked':
      return { outcome, retryAt: Number(at) };
    default:
      return { outcome: 'unknown_login' };
  }
}
