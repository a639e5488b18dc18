import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { isEmail } from 'class-validator';
import { AuditQueryService } from '../audit/audit-query.service';
import { SessionsService } from '../auth/sessions.service';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { ClientContext } from '../common/client-context';
import { asProblemException } from '../common/problem.exception';
import { hasControlCharacters } from '../common/text';
import { LoginTicketResponse } from '../otp/dto/login-ticket.response';
import { Session } from '../auth/session.entity';
import { UsersService } from '../users/users.service';
import { Views } from './views';

const ASSETS_DIR = join(__dirname, 'assets');
const WHEN = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
const ACTIVITY_LABELS: Record<string, string> = {
  'session.created': 'Signed in',
  'session.refreshed': 'Session renewed',
  'session.revoked': 'Signed out',
  'otp.verified': 'Code accepted',
  'refresh_token.reused': 'Stolen sign-in blocked',
};

interface Messages {
  email?: string;
  error?: string;
  notice?: string;
}

/** What each page shows; the controller only handles HTTP, cookies and CSRF. */
@Injectable()
export class SignInPages {
  private readonly assets = new Map(
    ['app.css', 'app.js'].map((name) => [name, readFileSync(join(ASSETS_DIR, name), 'utf8')]),
  );

  constructor(
    private readonly views: Views,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    private readonly audit: AuditQueryService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  login(csrf: string, messages: Messages = {}): string {
    return this.views.render('login', 'Sign in', { csrf, codeLength: this.config.otp.length, ...messages });
  }

  code(csrf: string, email: string, ticket: LoginTicketResponse, messages: Messages = {}): string {
    const ttlMinutes = Math.max(1, Math.round(this.config.otp.ttlSeconds / 60));
    return this.views.render('code', 'Enter your code', { csrf, email, ttlMinutes, ...ticket, ...messages });
  }

  /** The code form again, after a refusal, for a login whose ticket is not at hand. */
  codeAgain(csrf: string, email: string, sessionId: string, messages: Messages, resendAvailableAt = ''): string {
    return this.code(
      csrf,
      email,
      { sessionId, resendAvailableAt, expiresAt: '', codeLength: this.config.otp.length },
      messages,
    );
  }

  linkConfirmation(csrf: string, sessionId: string, code: string): string {
    return this.views.render('link', 'Sign in', { csrf, sessionId, code });
  }

  logoutConfirmation(csrf: string): string {
    return this.views.render('logout', 'Sign out', { csrf });
  }

  /**
   * After a sign-in an OpenID client is waiting for: a page that moves on by itself. Not a redirect
   * of the form post, which the pages' CSP (form-action 'self') would stop at the client's origin.
   */
  continueTo(path: string): string {
    return this.views.render('continue', 'Signed in', { continueTo: path });
  }

  /** The OpenID provider's logout confirmation; `form` is the library's (hidden) form with its CSRF token. */
  oidcLogout(form: string, clientName?: string): string {
    return this.views.render('oidc-logout', 'Sign out', { form, clientName });
  }

  signedOut(): string {
    return this.views.render('signed-out', 'Signed out', {});
  }

  error(heading: string, message: string): string {
    return this.views.render('error', heading, { heading, message });
  }

  async dashboard(sessionToken: string | undefined, csrf: string): Promise<string | null> {
    const session = await this.session(sessionToken);
    const user = session && (await this.users.findById(session.userId));
    if (!session || !user) return null;
    const [activity, sessions] = await Promise.all([
      this.audit.recentActivity(user.id),
      this.sessions.listLive(user.id),
    ]);
    return this.views.render('dashboard', 'Your account', {
      csrf,
      user: {
        ...user,
        lastLoginAt: user.lastLoginAt?.toISOString(),
        lastLoginAtText: user.lastLoginAt ? `${WHEN.format(user.lastLoginAt)} UTC` : '—',
      },
      activity: activity.map((event) => ({
        label: ACTIVITY_LABELS[event.type] ?? event.type,
        at: event.at,
        atText: `${WHEN.format(new Date(event.at))} UTC`,
        ip: event.ip,
      })),
      sessions: sessions.map((live) => ({
        userAgent: describeAgent(live.userAgent),
        ip: live.ip,
        createdAtText: WHEN.format(live.createdAt),
        current: live.id === session.id,
      })),
      hasOtherSessions: sessions.some((live) => live.id !== session.id),
    });
  }

  async signedIn(sessionToken: string | undefined): Promise<boolean> {
    return (await this.session(sessionToken)) !== null;
  }

  async revokeOtherSessions(sessionToken: string | undefined, client: ClientContext): Promise<void> {
    const session = await this.session(sessionToken);
    if (session) await this.sessions.revokeAllOfUser(session.userId, client, 'signed_out_elsewhere', session.id);
  }

  async signOut(sessionToken: string | undefined, client: ClientContext): Promise<void> {
    const session = await this.session(sessionToken);
    if (session) await this.sessions.revokeOwn(session.userId, session.id, client, 'logout');
  }

  isEmailAddress(email: string): boolean {
    return email.length <= 254 && !hasControlCharacters(email) && isEmail(email);
  }

  /** A problem, in words for the sign-in pages. */
  explain(error: unknown): string {
    const problem = asProblemException(error);
    if (!problem) return 'Something went wrong on our side. Try again in a moment.';
    const retry = problem.options.retryAfterSeconds;
    const wait = retry
      ? ` Try again in ${retry >= 120 ? `${Math.ceil(retry / 60)} minutes` : `${Math.ceil(retry)} seconds`}.`
      : '';
    switch (problem.code) {
      case 'otp_expired':
        return 'That code has expired or was already used. Ask for a new one below.';
      case 'otp_invalid':
        return 'Too many wrong codes for that sign-in. Ask for a new code below.';
      case 'otp_resend_too_soon':
        return `We sent a code moments ago; check your inbox and spam folder.${wait}`;
      case 'rate_limited':
        return `Too many attempts.${wait}`;
      case 'mail_unavailable':
        return 'We could not send the email just now. Try again in a moment.';
      default:
        return problem.detail;
    }
  }

  asset(name: string): string {
    return this.assets.get(name)!;
  }

  private async session(sessionToken: string | undefined): Promise<Session | null> {
    return sessionToken ? this.sessions.findByRefreshToken(sessionToken) : null;
  }
}

function describeAgent(userAgent: string | null): string {
  if (!userAgent) return 'Unknown device';
  const browser = /(Edg|Firefox|Chrome|Safari)\/[\d.]+/.exec(userAgent)?.[1]?.replace('Edg', 'Edge') ?? 'Browser';
  const system =
    /(Windows|Mac OS X|Android|iPhone|iPad|Linux)/.exec(userAgent)?.[1]?.replace('Mac OS X', 'macOS') ??
    'unknown system';
  return `${browser} on ${system}`;
}
