import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { SessionsService } from '../auth/sessions.service';
import { SignedIn, TokensService } from '../auth/tokens.service';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { ClientContext } from '../common/client-context';
import { Clock } from '../common/clock';
import { ProblemException } from '../common/problem.exception';
import { Secrets } from '../common/secrets';
import { MailService } from '../mail/mail.service';
import { Metrics } from '../metrics/metrics';
import { IssueLimits, IssueResult, OtpStore, StoredCode } from '../store/otp-store';
import { UsersService } from '../users/users.service';
import { CodeGenerator } from './code-generator';
import { formatLoginId, LoginId, parseLoginId } from './login-id';
import { LoginRecords } from './login-records';

type AddressLimit = 'address-cooldown' | 'address-hourly' | 'address-failures';

export interface LoginTicket {
  sessionId: string;
  expiresAt: string;
  resendAvailableAt: string;
  codeLength: number;
}

/**
 * The rules of a one-time-code login: who gets a code and how often, how long it lives, how
 * many guesses it allows, and what a right guess turns into.
 */
@Injectable()
export class OtpService {
  private readonly logger = new Logger(OtpService.name);

  constructor(
    private readonly store: OtpStore,
    private readonly mail: MailService,
    private readonly loginRecords: LoginRecords,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly tokens: TokensService,
    private readonly audit: AuditService,
    private readonly secrets: Secrets,
    private readonly codes: CodeGenerator,
    private readonly metrics: Metrics,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Starts a new login for the address (ending earlier ones) and mails its first code. */
  async requestCode(email: string, client: ClientContext): Promise<LoginTicket> {
    const loginId: LoginId = { secret: this.codes.loginSecret(), address: this.secrets.addressTag(email) };
    return this.issue(loginId, client, false, (code, now) => this.store.startLogin(loginId.address, loginId.secret, email, code, this.issueLimits, now), email);
  }

  /** Mails another code for the same login; the earlier codes stay valid. */
  async resendCode(sessionId: string, client: ClientContext): Promise<LoginTicket> {
    const loginId = this.loginIdOrExpired(sessionId);
    return this.issue(loginId, client, true, (code, now) => this.store.addCode(loginId.address, loginId.secret, code, this.issueLimits, now));
  }

  async verifyCode(sessionId: string, code: string, client: ClientContext): Promise<SignedIn> {
    const loginId = this.loginIdOrExpired(sessionId);
    const now = this.clock.now();
    const hash = this.secrets.hashCode(sessionId, code);
    const budget = { maxFailed: this.config.otp.maxFailedPerAddress, windowMs: this.config.otp.failedWindowSeconds * 1000 };
    const result = await this.store.verify(loginId.address, loginId.secret, hash, budget, now);
    const details = { loginId: sessionId };

    switch (result.outcome) {
      case 'expired':
        throw expired();
      case 'locked':
        throw await this.refuse('address-failures', loginId.address, result.email, client, result.retryAt, now);
      case 'invalid': {
        const loginDestroyed = result.attemptsRemaining === 0;
        this.metrics.otpCodes.inc({ outcome: 'failed' });
        if (loginDestroyed || result.addressLockedUntil) this.metrics.otpCodes.inc({ outcome: 'locked' });
        await this.audit.record([
          { type: 'otp.failed', email: result.email, client, details: { ...details, attemptsRemaining: result.attemptsRemaining } },
          ...(loginDestroyed || result.addressLockedUntil
            ? [{ type: 'otp.locked' as const, email: result.email, client, details: { ...details, loginDestroyed, addressLockedUntil: iso(result.addressLockedUntil) } }]
            : []),
        ]);
        throw new ProblemException('otp_invalid', 'The code is not correct.', { extras: { attemptsRemaining: result.attemptsRemaining } });
      }
      case 'verified':
        this.metrics.otpCodes.inc({ outcome: 'verified' });
        return this.signIn(result.email, sessionId, client);
    }
  }

  private get issueLimits(): IssueLimits {
    const otp = this.config.otp;
    return { cooldownMs: otp.resendCooldownSeconds * 1000, maxPerHour: otp.maxPerHour, maxLiveCodes: otp.maxLiveCodes, maxAttempts: otp.maxAttempts };
  }

  private async issue(
    loginId: LoginId,
    client: ClientContext,
    resend: boolean,
    store: (code: { hash: string; expiresAt: number }, now: number) => Promise<IssueResult>,
    knownEmail: string | null = null,
  ): Promise<LoginTicket> {
    const now = this.clock.now();
    const sessionId = formatLoginId(loginId);
    const code = this.codes.code(this.config.otp.length);
    const stored = { hash: this.secrets.hashCode(sessionId, code), expiresAt: now + this.config.otp.ttlSeconds * 1000 };
    const result = await store(stored, now);

    switch (result.outcome) {
      case 'unknown_login':
        throw expired();
      case 'store_full':
        throw new ProblemException('service_unavailable', 'Too many sign-ins are in progress; try again in a moment.', { retryAfterSeconds: 30 });
      case 'cooldown':
        throw await this.refuse('address-cooldown', loginId.address, knownEmail, client, result.retryAt, now);
      case 'hourly_limit':
        throw await this.refuse('address-hourly', loginId.address, knownEmail, client, result.retryAt, now);
    }

    const email = result.email;
    const details = { loginId: sessionId, resend };
    try {
      const signInUrl = `${this.config.http.publicUrl}/login/link?${new URLSearchParams({ session: sessionId, code })}`;
      await this.mail.sendLoginCode({ to: email, code, ttlSeconds: this.config.otp.ttlSeconds, signInUrl, acceptLanguage: client.locale });
    } catch (error) {
      await this.store.discardCode(loginId.address, loginId.secret, stored.hash);
      this.logger.warn({ msg: `Mail hand-off failed (${(error as Error).message}); the code was withdrawn`, requestId: client.requestId });
      await this.audit.record([
        { type: 'otp.requested', email, client, details },
        { type: 'otp.send_failed', email, client, details: { ...details, reason: (error as Error).message.slice(0, 200) } },
      ]);
      throw new ProblemException('mail_unavailable', 'The code could not be sent; try again in a moment.');
    }

    await this.recordIssued(loginId, email, stored, now, client, details);
    this.metrics.otpCodes.inc({ outcome: 'sent' });

    return { sessionId, expiresAt: iso(stored.expiresAt)!, resendAvailableAt: iso(result.resendAvailableAt)!, codeLength: this.config.otp.length };
  }

  /** The code's record and its audit events, together; if that fails the code is withdrawn too. */
  private async recordIssued(loginId: LoginId, email: string, stored: StoredCode, now: number, client: ClientContext, details: { loginId: string; resend: boolean }): Promise<void> {
    try {
      await this.loginRecords.recordIssued(
        { id: randomUUID(), userId: null, email, loginId: details.loginId, codeHash: stored.hash, expiresAt: new Date(stored.expiresAt), createdAt: new Date(now), consumedAt: null },
        [
          { type: 'otp.requested', email, client, details },
          { type: 'otp.sent', email, client, details: { ...details, expiresAt: iso(stored.expiresAt) } },
        ],
      );
    } catch (error) {
      await this.store.discardCode(loginId.address, loginId.secret, stored.hash).catch(() => undefined);
      throw error;
    }
  }

  /** A per-address refusal: audited once per address and window, answered with when to retry. */
  private async refuse(scope: AddressLimit, address: string, email: string | null, client: ClientContext, retryAt: number, now: number): Promise<ProblemException> {
    const retryAfterSeconds = (retryAt - now) / 1000;
    await this.audit.recordSampled(`${scope}:${address}`, retryAt - now, {
      type: 'rate_limit.hit',
      email,
      client,
      details: { scope, retryAfterSeconds: Math.ceil(retryAfterSeconds) },
    });
    if (scope === 'address-cooldown') {
      return new ProblemException('otp_resend_too_soon', 'A code was sent moments ago; wait before asking for another.', {
        retryAfterSeconds,
        extras: { resendAvailableAt: iso(retryAt) },
      });
    }
    const detail = scope === 'address-hourly' ? 'Too many codes for this address in the last hour' : 'Too many wrong codes for this address';
    return new ProblemException('rate_limited', `${detail}; try again later.`, { retryAfterSeconds });
  }

  private async signIn(email: string, loginId: string, client: ClientContext): Promise<SignedIn> {
    const opened = this.sessions.open(client);
    const sessionId = opened.session.id;
    const { user, session } = await this.loginRecords.recordSignIn({
      email,
      loginId,
      at: opened.session.createdAt,
      session: opened.session,
      events: [
        { type: 'otp.verified', email, sessionId, client, details: { loginId } },
        { type: 'session.created', email, sessionId, client, details: { method: 'otp' } },
      ],
    });
    await this.users.signedIn(user, opened.session.createdAt);
    return this.tokens.signedIn(user, session, opened.refreshToken);
  }

  private loginIdOrExpired(sessionId: string): LoginId {
    const loginId = parseLoginId(sessionId);
    if (!loginId) throw expired();
    return loginId;
  }
}

function expired(): ProblemException {
  return new ProblemException('otp_expired', 'This sign-in has expired or was already used; ask for a new code.');
}

function iso(epochMs: number | null): string | null {
  return epochMs === null ? null : new Date(epochMs).toISOString();
}
