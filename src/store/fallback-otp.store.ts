import { FailureBudget, IssueLimits, IssueResult, LoginKind, OtpStore, StoredCode, VerifyResult } from './otp-store';
import { RedisFallback } from './redis-fallback';

/** The Redis OTP store while Redis answers, else the memory one or a refusal (REDIS_FALLBACK). */
export class FallbackOtpStore extends OtpStore {
  constructor(
    private readonly redis: OtpStore,
    private readonly memory: OtpStore,
    private readonly fallback: RedisFallback,
  ) {
    super();
  }

  startLogin(
    address: string,
    loginId: string,
    email: string,
    code: StoredCode,
    limits: IssueLimits,
    now: number,
    kind: LoginKind = 'sign-in',
  ): Promise<IssueResult> {
    return this.fallback.run(
      () => this.redis.startLogin(address, loginId, email, code, limits, now, kind),
      () => this.memory.startLogin(address, loginId, email, code, limits, now, kind),
    );
  }

  addCode(address: string, loginId: string, code: StoredCode, limits: IssueLimits, now: number): Promise<IssueResult> {
    return this.fallback.run(
      () => this.redis.addCode(address, loginId, code, limits, now),
      () => this.memory.addCode(address, loginId, code, limits, now),
    );
  }

  verify(
    address: string,
    loginId: string,
    codeHash: string,
    budget: FailureBudget,
    now: number,
    kind: LoginKind = 'sign-in',
  ): Promise<VerifyResult> {
    return this.fallback.run(
      () => this.redis.verify(address, loginId, codeHash, budget, now, kind),
      () => this.memory.verify(address, loginId, codeHash, budget, now, kind),
    );
  }

  restoreLogin(address: string, loginId: string, now: number): Promise<void> {
    return this.fallback.run(
      () => this.redis.restoreLogin(address, loginId, now),
      () => this.memory.restoreLogin(address, loginId, now),
    );
  }

  discardCode(address: string, loginId: string, codeHash: string, kind: LoginKind = 'sign-in'): Promise<void> {
    return this.fallback.run(
      () => this.redis.discardCode(address, loginId, codeHash, kind),
      () => this.memory.discardCode(address, loginId, codeHash, kind),
    );
  }

  ping(): Promise<void> {
    return this.fallback.run(
      () => this.redis.ping(),
      () => this.memory.ping(),
    );
  }

  removeExpired(now: number): Promise<number> {
    return this.fallback.run(
      () => this.redis.removeExpired(now),
      () => this.memory.removeExpired(now),
    );
  }
}
