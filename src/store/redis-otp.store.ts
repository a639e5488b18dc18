import { FailureBudget, IssueLimits, IssueResult, OtpStore, StoredCode, VerifyResult } from './otp-store';
import { RedisClient } from './redis-client';
import { ADD_CODE, DISCARD_CODE, START_LOGIN, VERIFY } from './redis-otp.scripts';

type ScriptReply = (string | number | null)[];

interface OtpCommands {
  otpStartLogin(...args: (string | number)[]): Promise<ScriptReply>;
  otpAddCode(...args: (string | number)[]): Promise<ScriptReply>;
  otpVerify(...args: (string | number)[]): Promise<ScriptReply>;
  otpDiscardCode(...args: (string | number)[]): Promise<ScriptReply>;
}

/** The production store: one Lua script per operation, so each is atomic across instances. */
export class RedisOtpStore extends OtpStore {
  private readonly commands: OtpCommands;

  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
  ) {
    super();
    redis.defineCommand('otpStartLogin', { numberOfKeys: 4, lua: START_LOGIN });
    redis.defineCommand('otpAddCode', { numberOfKeys: 4, lua: ADD_CODE });
    redis.defineCommand('otpVerify', { numberOfKeys: 4, lua: VERIFY });
    redis.defineCommand('otpDiscardCode', { numberOfKeys: 4, lua: DISCARD_CODE });
    this.commands = redis as unknown as OtpCommands;
  }

  async startLogin(address: string, loginId: string, email: string, code: StoredCode, limits: IssueLimits, now: number): Promise<IssueResult> {
    const reply = await this.commands.otpStartLogin(
      ...this.keys(address),
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

  async addCode(address: string, loginId: string, code: StoredCode, limits: IssueLimits, now: number): Promise<IssueResult> {
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

  async verify(address: string, loginId: string, codeHash: string, budget: FailureBudget, now: number): Promise<VerifyResult> {
    const [outcome, first, second, third] = await this.commands.otpVerify(...this.keys(address), loginId, codeHash, now, budget.maxFailed, budget.windowMs);
    switch (outcome) {
      case 'verified':
        return { outcome, email: String(first) };
      case 'invalid':
        return { outcome, email: String(third), attemptsRemaining: Number(first), addressLockedUntil: Number(second) > 0 ? Number(second) : null };
      case 'locked':
        return { outcome, retryAt: Number(first), email: second ? String(second) : null };
      default:
        return { outcome: 'expired' };
    }
  }

  async discardCode(address: string, loginId: string, codeHash: string): Promise<void> {
    await this.commands.otpDiscardCode(...this.keys(address), loginId, codeHash);
  }

  /** A keyed read, not PING: a cluster that lost a master answers PING but refuses keys. */
  async ping(): Promise<void> {
    await this.redis.exists(`${this.keyPrefix}health`);
  }

  /** Redis expires every key itself. */
  async removeExpired(): Promise<number> {
    return 0;
  }

  private keys(address: string): [string, string, string, string] {
    const base = `${this.keyPrefix}{${address}}`;
    return [`${base}:login`, `${base}:cooldown`, `${base}:sends`, `${base}:failures`];
  }
}

function issueResult([outcome, at, email]: ScriptReply): IssueResult {
  switch (outcome) {
    case 'issued':
      return { outcome, resendAvailableAt: Number(at), email: String(email) };
    case 'cooldown':
    case 'hourly_limit':
      return { outcome, retryAt: Number(at) };
    default:
      return { outcome: 'unknown_login' };
  }
}
