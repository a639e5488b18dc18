import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { ProblemException } from '../common/problem.exception';
import { Secrets } from '../common/secrets';

/** An OpenID authorization waiting for the user to sign in: its interaction id, client, and when it sent them. */
export interface PendingInteraction {
  uid: string;
  clientId: string;
  /** Epoch ms: a sign-in at or after this answers a `prompt=login`. */
  sentAt: number;
}

/**
 * The browser's cookies: the sign-in session (HttpOnly, SameSite=Lax, Path=/, no Domain; Secure
 * and __Host- outside development) and the CSRF secret behind every form's token.
 */
@Injectable()
export class WebCookies {
  private readonly secure: boolean;
  private readonly sessionCookie: string;
  private readonly csrfCookie: string;
  private readonly interactionCookie: string;
  private readonly sessionMaxAgeSeconds: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly secrets: Secrets,
  ) {
    this.secure = config.env !== 'development';
    const prefix = this.secure ? '__Host-' : '';
    this.sessionCookie = `${prefix}otp_session`;
    this.csrfCookie = `${prefix}otp_csrf`;
    this.interactionCookie = `${prefix}otp_interaction`;
    this.sessionMaxAgeSeconds = Math.min(config.jwt.refreshTtlSeconds, config.jwt.sessionMaxAgeSeconds);
  }

  sessionToken(request: FastifyRequest): string | undefined {
    return request.cookies[this.sessionCookie];
  }

  /** For a session just started: the cookie lasts as long as its refresh secret can. */
  setSession(reply: FastifyReply, token: string): void {
    // Every response that sets or clears a cookie: a cached one would hand it to whoever is served it next.
    reply.header('cache-control', 'no-store');
    reply.setCookie(this.sessionCookie, token, { ...this.options(), maxAge: this.sessionMaxAgeSeconds });
    // A new sign-in gets a new CSRF secret too.
    reply.setCookie(this.csrfCookie, randomBytes(32).toString('base64url'), this.options());
  }

  clearSession(reply: FastifyReply): void {
    reply.header('cache-control', 'no-store');
    reply.clearCookie(this.sessionCookie, this.options());
  }

  /** A Set-Cookie value that clears the session cookie, for responses written outside Fastify. */
  clearedSessionCookie(): string {
    return `${this.sessionCookie}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax${this.secure ? '; Secure' : ''}`;
  }

  /** The session cookie's name, for the OpenID provider, which reads it outside Fastify. */
  get sessionCookieName(): string {
    return this.sessionCookie;
  }

  /**
   * Remembers, while the user signs in, the OpenID authorization that sent them here, so that the
   * sign-in (by code or by the mail's link) returns to it. Signed: it names the client in the audit
   * trail. Cleared when the authorization resumes.
   */
  setInteraction(reply: FastifyReply, interaction: PendingInteraction, maxAgeSeconds: number): void {
    const value = `${interaction.uid}.${interaction.clientId}.${interaction.sentAt}`;
    reply.header('cache-control', 'no-store');
    reply.setCookie(this.interactionCookie, `${value}.${this.mac(`interaction:${value}`)}`, {
      ...this.options(),
      maxAge: maxAgeSeconds,
    });
  }

  interaction(request: FastifyRequest): PendingInteraction | undefined {
    const [uid, clientId, sentAt, mac, ...rest] = (request.cookies[this.interactionCookie] ?? '').split('.');
    if (rest.length > 0 || !uid || !clientId || !/^\d+$/.test(sentAt ?? '') || !mac) return undefined;
    const expected = Buffer.from(this.mac(`interaction:${uid}.${clientId}.${sentAt}`));
    const given = Buffer.from(mac);
    return expected.length === given.length && timingSafeEqual(expected, given)
      ? { uid, clientId, sentAt: Number(sentAt) }
      : undefined;
  }

  clearInteraction(reply: FastifyReply): void {
    reply.clearCookie(this.interactionCookie, this.options());
  }

  /** The token to put in this page's forms, creating the CSRF secret on first visit. */
  csrfToken(request: FastifyRequest, reply: FastifyReply): string {
    let secret = request.cookies[this.csrfCookie];
    if (!secret) {
      secret = randomBytes(32).toString('base64url');
      reply.header('cache-control', 'no-store');
      reply.setCookie(this.csrfCookie, secret, this.options());
      request.cookies[this.csrfCookie] = secret;
    }
    return this.tokenFor(secret);
  }

  /** The page's CSRF token once the posted form proved to be ours; otherwise 403 and nothing done. */
  checkedCsrf(request: FastifyRequest, reply: FastifyReply, postedToken: unknown): string {
    if (!this.isSameSiteForm(request, postedToken))
      throw new ProblemException(
        'forbidden',
        'This form expired or came from another site. Reload the page and try again.',
      );
    return this.csrfToken(request, reply);
  }

  /**
   * A form post is ours when its token matches the browser's CSRF secret and the browser does
   * not say it came from another site.
   */
  isSameSiteForm(request: FastifyRequest, token: unknown): boolean {
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
    const secret = request.cookies[this.csrfCookie];
    if (!secret || typeof token !== 'string') return false;
    const expected = Buffer.from(this.tokenFor(secret));
    const given = Buffer.from(token);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private tokenFor(secret: string): string {
    return this.mac(`csrf:${secret}`);
  }

  private mac(text: string): string {
    return createHmac('sha256', this.secrets.cookieKey).update(text).digest('base64url');
  }

  private options() {
    return { httpOnly: true, sameSite: 'lax' as const, path: '/', secure: this.secure };
  }
}
