import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditRecord, AuditService } from '../audit/audit.service';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { ClientContext, clientIdOf } from '../common/client-context';
import { Clock } from '../common/clock';
import { ProblemException } from '../common/problem.exception';
import { Secrets } from '../common/secrets';
import { MailService } from '../mail/mail.service';
import { MailRefusedError } from '../mail/mail-transport';
import { Metrics } from '../metrics/metrics';
import { IssueResult, OtpStore, StoredCode } from '../store/otp-store';
import { CodeGenerator } from './code-generator';
import { LoginTicketResponse } from './dto/login-ticket.response';
import { formatLoginId, LoginId, parseLoginId } from './login-id';
import { OtpPolicy, otpPolicy } from './otp-policy';
import { OtpTokensRepository } from './otp-tokens.repository';

type AddressLimit = 'address-cooldown' | 'address-hourly' | 'address-failures';

/** A login whose code was right: the address it proved, and the handle to give it back if the sign-in fails. */
export interface VerifiedLogin {
  email: string;
  loginId: string;
}

/** What a login is for: a sign-in, or a signed-in user's change to a new address (bound to that user). */
type Purpose = { kind: 'sign-in' } | { kind: 'email-change'; userId: string };

const SIGN_IN: Purpose = { kind: 'sign-in' };

/** An address change's code, as the API answers its request. */
export interface EmailChangeTicket {
  changeId: string;
  expiresAt: string;
  codeLength: number;
}

/**
 * The rules of a one-time-code login: who gets a code and how often, how long it lives and how
 * many guesses it allows. A right guess answers the address it proved; the auth module signs in.
 */
@Injectable()
export class OtpService {
  private readonly logger = new Logger(OtpService.name);
  private readonly policy: OtpPolicy;

  constructor(
    private readonly store: OtpStore,
    private readonly mail: MailService,
    private readonly otpTokens: OtpTokensRepository,
    private readonly audit: AuditService,
    private readonly secrets: Secrets,
    private readonly codes: CodeGenerator,
    private readonly metrics: Metrics,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.policy = otpPolicy(config);
  }

  /** Starts a new login for the address (ending earlier ones) and mails its first code. */
  async requestCode(email: string, client: ClientContext): Promise<LoginTicketResponse> {
    const loginId: LoginId = { secret: this.codes.loginSecret(), address: this.secrets.addressTag(email) };
    return this.issue(
      loginId,
      client,
      false,
      (code, now) => this.store.startLogin(loginId.address, loginId.secret, email, code, this.policy.issue, now),
      email,
    );
  }

  /** Mails another code for the same login; the earlier codes stay valid. */
  async resendCode(sessionId: string, client: ClientContext): Promise<LoginTicketResponse> {
    const loginId = this.loginIdOrExpired(sessionId);
    return this.issue(loginId, client, true, (code, now) =>
      this.store.addCode(loginId.address, loginId.secret, code, this.policy.issue, now),
    );
  }

  /** The address a right code proves; a wrong one is counted against the login and the address. */
  async verifyCode(sessionId: string, code: string, client: ClientContext): Promise<VerifiedLogin> {
    return { email: await this.check(sessionId, code, client, SIGN_IN), loginId: sessionId };
  }

  /**
   * Mails a code to the new address of a signed-in user, under the limits of that address's
   * sign-in codes (one cooldown, one hourly cap, one failure budget); its sign-in logins stay.
   */
  async requestEmailChangeCode(userId: string, newEmail: string, client: ClientContext): Promise<EmailChangeTicket> {
    const loginId: LoginId = { secret: this.codes.loginSecret(), address: this.secrets.addressTag(newEmail) };
    const purpose: Purpose = { kind: 'email-change', userId };
    const ticket = await this.issue(
      loginId,
      client,
      false,
      (code, now) =>
        this.store.startLogin(loginId.address, loginId.secret, newEmail, code, this.policy.issue, now, 'email-change'),
      newEmail,
      purpose,
    );
    return { changeId: ticket.sessionId, expiresAt: ticket.expiresAt, codeLength: ticket.codeLength };
  }

  /** The new address a right code proves for this user's change; a wrong one counts as for a sign-in. */
  verifyEmailChangeCode(userId: string, changeId: string, code: string, client: ClientContext): Promise<string> {
    return this.check(changeId, code, client, { kind: 'email-change', userId });
  }

  private async check(sessionId: string, code: string, client: ClientContext, purpose: Purpose): Promise<string> {
    const loginId = this.loginIdOrExpired(sessionId);
    const now = this.clock.now();
    const hash = this.secrets.hashCode(codeBinding(sessionId, purpose), code);
    const result = await this.store.verify(
      loginId.address,
      loginId.secret,
      hash,
      this.policy.failures,
      now,
      purpose.kind,
    );
    const details = { loginId: sessionId, ...purposeDetails(purpose) };
    const userId = purpose.kind === 'email-change' ? purpose.userId : null;

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
          {
            type: 'otp.failed',
            email: result.email,
            userId,
            client,
            details: { ...details, attemptsRemaining: result.attemptsRemaining },
          },
          ...(loginDestroyed || result.addressLockedUntil
            ? [
                {
                  type: 'otp.locked' as const,
                  email: result.email,
                  userId,
                  client,
                  details: { ...details, loginDestroyed, addressLockedUntil: iso(result.addressLockedUntil) },
                },
              ]
            : []),
        ]);
        throw new ProblemException('otp_invalid', 'The code is not correct.', {
          extras: { attemptsRemaining: result.attemptsRemaining },
        });
      }
      case 'verified':
        this.metrics.otpCodes.inc({ outcome: 'verified' });
        return result.email;
    }
  }

  /** The sign-in's write of this module: the login's codes marked used by the user it signed in. */
  verifiedWrite(login: VerifiedLogin, userId: string, at: Date, manager: EntityManager) {
    return this.otpTokens.verifiedWrite(login.loginId, userId, at, manager);
  }

  /** The deletion of an account's write of this module: the records of its codes. */
  deleteRecordsWrite(userId: string, email: string, manager: EntityManager): Promise<void> {
    return this.otpTokens.deleteOfUserWrite(userId, email, manager);
  }

  /** The event a sign-in records for the login it used. */
  verifiedEvent(
    login: VerifiedLogin,
    signIn: { userId: string | null; sessionId: string; client: ClientContext },
  ): AuditRecord {
    return {
      type: 'otp.verified',
      email: login.email,
      userId: signIn.userId,
      sessionId: signIn.sessionId,
      client: signIn.client,
      details: { loginId: login.loginId, ...clientIdOf(signIn.client) },
    };
  }

  /** Gives back a login a right code ended, with its codes and attempts, when its sign-in could not be written. */
  async restoreLogin(login: VerifiedLogin): Promise<void> {
    const id = parseLoginId(login.loginId);
    if (id) await this.store.restoreLogin(id.address, id.secret, this.clock.now());
  }

  /** Removes records of expired codes (in batches) and, in memory, expired logins. */
  async removeExpired(batch: number): Promise<{ otpTokens: number; memoryLogins: number }> {
    const now = this.clock.now();
    let otpTokens = 0;
    for (let removed = batch; removed === batch; otpTokens += removed)
      removed = await this.otpTokens.deleteExpired(new Date(now), batch);
    return { otpTokens, memoryLogins: await this.store.removeExpired(now) };
  }

  private async issue(
    loginId: LoginId,
    client: ClientContext,
    resend: boolean,
    store: (code: { hash: string; expiresAt: number }, now: number) => Promise<IssueResult>,
    knownEmail: string | null = null,
    purpose: Purpose = SIGN_IN,
  ): Promise<LoginTicketResponse> {
    const now = this.clock.now();
    const sessionId = formatLoginId(loginId);
    const code = this.codes.code(this.policy.codeLength);
    const stored = {
      hash: this.secrets.hashCode(codeBinding(sessionId, purpose), code),
      expiresAt: now + this.policy.codeTtlMs,
    };
    const result = await store(stored, now);

    switch (result.outcome) {
      case 'unknown_login':
        throw expired();
      case 'store_full':
        throw new ProblemException('service_unavailable', 'Too many sign-ins are in progress; try again in a moment.', {
          retryAfterSeconds: 30,
        });
      case 'cooldown':
        throw await this.refuse('address-cooldown', loginId.address, knownEmail, client, result.retryAt, now);
      case 'hourly_limit':
        throw await this.refuse('address-hourly', loginId.address, knownEmail, client, result.retryAt, now);
      case 'locked':
        throw await this.refuse('address-failures', loginId.address, knownEmail, client, result.retryAt, now);
    }

    const email = result.email;
    const details: IssueDetails = { loginId: sessionId, resend, ...purposeDetails(purpose) };
    const userId = purpose.kind === 'email-change' ? purpose.userId : null;
    // Recorded before the hand-off: once the mail is out, its request is on record whatever fails next.
    const tokenId = randomUUID();
    await this.recordRequested(tokenId, loginId, email, stored, now, client, details, purpose);
    const outcome = await this.handOver(tokenId, loginId, email, code, stored, client, details, purpose);
    const event: AuditRecord =
      outcome === 'sent'
        ? { type: 'otp.sent', email, userId, client, details: { ...details, expiresAt: iso(stored.expiresAt) } }
        : { type: 'otp.send_failed', email, userId, client, details: { ...details, reason: outcome.reason } };
    // The limits the mail spent stay spent even if this write fails: nothing is given back after a hand-off.
    await this.audit.record([event]).catch((error: Error) =>
      this.logger.error({
        msg: `The outcome of a code mail could not be audited: ${error.message}`,
        requestId: client.requestId,
      }),
    );
    this.metrics.otpCodes.inc({ outcome: outcome === 'sent' ? 'sent' : 'refused' });

    // A recipient the server refuses for good gets the same answer as one it takes: no mailbox enumeration.
    return {
      sessionId,
      expiresAt: iso(stored.expiresAt)!,
      resendAvailableAt: iso(result.resendAvailableAt)!,
      codeLength: this.policy.codeLength,
    };
  }

  /** The code's record and its request event, together; if that fails nothing was mailed, so the code and its limits are given back. */
  private async recordRequested(
    tokenId: string,
    loginId: LoginId,
    email: string,
    stored: StoredCode,
    now: number,
    client: ClientContext,
    details: IssueDetails,
    purpose: Purpose,
  ): Promise<void> {
    const userId = purpose.kind === 'email-change' ? purpose.userId : null;
    try {
      await this.otpTokens.recordIssued(
        {
          id: tokenId,
          userId: null,
          email,
          loginId: details.loginId,
          codeHash: stored.hash,
          expiresAt: new Date(stored.expiresAt),
          createdAt: new Date(now),
          consumedAt: null,
        },
        [{ type: 'otp.requested', email, userId, client, details }],
      );
    } catch (error) {
      await this.store.discardCode(loginId.address, loginId.secret, stored.hash, purpose.kind).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Mails the code: 'sent', or the server's reason when it refused the address for good (the
   * limits stay spent). An outage withdraws the code and gives its limits back, as nothing left.
   */
  private async handOver(
    tokenId: string,
    loginId: LoginId,
    email: string,
    code: string,
    stored: StoredCode,
    client: ClientContext,
    details: IssueDetails,
    purpose: Purpose,
  ): Promise<'sent' | { reason: string }> {
    try {
      if (purpose.kind === 'email-change') {
        await this.mail.sendEmailChangeCode({
          to: email,
          code,
          ttlSeconds: this.config.otp.ttlSeconds,
          acceptLanguage: client.locale,
        });
        return 'sent';
      }
      const signInUrl = `${this.config.http.publicUrl}/login/link?${new URLSearchParams({ session: details.loginId, code })}`;
      await this.mail.sendLoginCode({
        to: email,
        code,
        ttlSeconds: this.config.otp.ttlSeconds,
        signInUrl,
        acceptLanguage: client.locale,
      });
      return 'sent';
    } catch (error) {
      if (error instanceof MailRefusedError) return { reason: error.reason.slice(0, 200) };
      await this.store.discardCode(loginId.address, loginId.secret, stored.hash, purpose.kind).catch(() => undefined);
      const reason = (error as Error).message.slice(0, 200);
      this.logger.warn({
        msg: `Mail hand-off failed (${reason}); the code was withdrawn`,
        requestId: client.requestId,
      });
      await this.otpTokens.recordWithdrawn(tokenId, [
        {
          type: 'otp.send_failed',
          email,
          userId: purpose.kind === 'email-change' ? purpose.userId : null,
          client,
          details: { ...details, reason },
        },
      ]);
      throw new ProblemException('mail_unavailable', 'The code could not be sent; try again in a moment.');
    }
  }

  /** A per-address refusal: audited once per address and window, answered with when to retry. */
  private async refuse(
    scope: AddressLimit,
    address: string,
    email: string | null,
    client: ClientContext,
    retryAt: number,
    now: number,
  ): Promise<ProblemException> {
    const retryAfterSeconds = (retryAt - now) / 1000;
    await this.audit.recordSampled(`${scope}:${address}`, retryAt - now, {
      type: 'rate_limit.hit',
      email,
      client,
      details: { scope, retryAfterSeconds: Math.ceil(retryAfterSeconds) },
    });
    if (scope === 'address-cooldown') {
      return new ProblemException(
        'otp_resend_too_soon',
        'A code was sent moments ago; wait before asking for another.',
        {
          retryAfterSeconds,
          extras: { resendAvailableAt: iso(retryAt) },
        },
      );
    }
    const detail =
      scope === 'address-hourly'
        ? 'Too many codes for this address in the last hour'
        : 'Too many wrong codes for this address';
    return new ProblemException('rate_limited', `${detail}; try again later.`, { retryAfterSeconds });
  }

  private loginIdOrExpired(sessionId: string): LoginId {
    const loginId = parseLoginId(sessionId);
    if (!loginId) throw expired();
    return loginId;
  }
}

type IssueDetails = { loginId: string; resend: boolean; purpose?: 'email_change' };

/** A change's code is bound to its user too: another user holding the change id and the code gets nothing. */
function codeBinding(sessionId: string, purpose: Purpose): string {
  return purpose.kind === 'email-change' ? `${sessionId}:${purpose.userId}` : sessionId;
}

function purposeDetails(purpose: Purpose): { purpose?: 'email_change' } {
  return purpose.kind === 'email-change' ? { purpose: 'email_change' } : {};
}

function expired(): ProblemException {
  return new ProblemException('otp_expired', 'This sign-in has expired or was already used; ask for a new code.');
}

function iso(epochMs: number | null): string | null {
  return epochMs === null ? null : new Date(epochMs).toISOString();
}
