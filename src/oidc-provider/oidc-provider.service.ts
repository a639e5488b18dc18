import { AsyncLocalStorage } from 'node:async_hooks';
import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Adapter, Configuration, InteractionResults, KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { AuditService } from '../audit/audit.service';
import { Session } from '../auth/session.entity';
import { SessionsService } from '../auth/sessions.service';
import { RSA_SIGNING_ALGORITHM, SIGNING_ALGORITHM, SigningKey, SigningKeys } from '../auth/signing-keys';
import { ClientContext } from '../common/client-context';
import { Secrets } from '../common/secrets';
import { AppConfig, ConfigError } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { OidcClientsService } from '../oidc/clients/oidc-clients.service';
import { OidcStorage } from '../oidc/storage/oidc-storage';
import { RATE_LIMIT_STORAGE } from '../store/store.module';
import { UsersService } from '../users/users.service';
import { SignInPages } from '../web/sign-in-pages';
import { WebCookies } from '../web/web-cookies';

type Library = typeof import('oidc-provider');

/** The paths the library answers; the interaction pages and userinfo are ours. */
const OIDC_ROUTES = {
  authorization: '/oidc/auth',
  token: '/oidc/token',
  revocation: '/oidc/token/revocation',
  end_session: '/oidc/session/end',
  userinfo: '/oidc/me',
  jwks: '/.well-known/jwks.json',
} as const;

const SCOPES = ['openid', 'email', 'profile', 'offline_access'];
/** What an access token of ours may do at the API and the userinfo endpoint. */
const ACCESS_TOKEN_SCOPE = 'openid email profile';
const AUTHORIZATION_CODE_TTL_SECONDS = 60;
const ID_TOKEN_TTL_SECONDS = 3600;
export const INTERACTION_TTL_SECONDS = 600;
/** Prompt reasons a browser session of any age answers; every other one needs a sign-in after the request. */
const ANY_SESSION_WILL_DO = new Set(['no_session', 'browser_session']);

/** What the request that the library is handling brings from Fastify. */
interface RequestScope {
  client: ClientContext;
  /** Whether the client authenticates with HTTP Basic; otherwise a confidential client posts its secret. */
  basicAuth: boolean;
}

/**
 * panva's oidc-provider (OpenID Certified), configured for this service: our sign-in pages are its
 * login, our sessions its `sid`, our keys its JWKS, our database its storage. See docs/oidc.md and
 * ADR 0005.
 */
@Injectable()
export class OidcProvider implements OnModuleInit {
  private readonly logger = new Logger(OidcProvider.name);
  private readonly requests = new AsyncLocalStorage<RequestScope>();
  private provider!: Provider;
  private callback!: (req: IncomingMessage, res: ServerResponse) => Promise<void>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: SigningKeys,
    private readonly secrets: Secrets,
    private readonly clients: OidcClientsService,
    private readonly storage: OidcStorage,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    private readonly cookies: WebCookies,
    private readonly pages: SignInPages,
    @Inject(RATE_LIMIT_STORAGE) private readonly rateLimits: ThrottlerStorage,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.keys.rsa && this.config.env === 'production' && (await this.clients.usesRs256()))
      throw new ConfigError('JWT_RSA_PRIVATE_KEY', 'is required: a client is registered for RS256 ID tokens');
    const library = await import('oidc-provider');
    this.provider = new library.Provider(this.config.oidcIssuer, this.configuration(library));
    this.provider.proxy = this.config.http.trustProxy !== false;
    // The library puts `sid` in codes and ID tokens only for clients with back-channel logout. Ours
    // always carry it: it is the session every token of the authorization dies with (API.md).
    this.provider.Client.prototype.includeSid = () => true;
    this.provider.use((ctx, next) => this.afterProtocolStep(ctx as KoaContextWithOIDC, next));
    this.provider.on('server_error', (_ctx, error: Error) => this.logger.error(error.message, error.stack));
    this.callback = this.provider.callback();
  }

  /**
   * The browser endpoints (authorization, end-session) under the per-IP limit of every other route:
   * each authorization writes state. Seconds to wait when refused, else undefined. The token
   * endpoint is left to the clients' servers, which speak for many users from one address.
   */
  async refusedForRate(ip: string): Promise<number | undefined> {
    const limit = this.config.rateLimit.globalPerIpPerMinute;
    const record = await this.rateLimits.increment(`oidc:${ip}`, 60_000, limit, 60_000, 'oidc');
    return record.isBlocked ? record.timeToBlockExpire : undefined;
  }

  /** Hands a request to the library. */
  handle(req: IncomingMessage, res: ServerResponse, scope: RequestScope): Promise<void> {
    return this.requests.run(scope, () => this.callback(req, res));
  }

  interactionDetails(req: IncomingMessage, res: ServerResponse) {
    return this.provider.interactionDetails(req, res);
  }

  /** Where to send the browser to resume the authorization with this result. */
  interactionResult(req: IncomingMessage, res: ServerResponse, result: InteractionResults): Promise<string> {
    return this.provider.interactionResult(req, res, result, { mergeWithLastSubmission: true });
  }

  /** Registration is the consent: grants what the consent prompt found missing. */
  async grantMissing(details: Awaited<ReturnType<Provider['interactionDetails']>>): Promise<string> {
    const { prompt, params, session, grantId } = details;
    const grant =
      (grantId && (await this.provider.Grant.find(grantId))) ||
      new this.provider.Grant({ accountId: session!.accountId, clientId: String(params.client_id) });
    const missing = prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
      grant.addResourceScope(indicator, scopes.join(' '));
    return grant.save();
  }

  /** The live session behind the browser's sign-in cookie, if any. */
  async browserSession(cookieValue: string | undefined): Promise<Session | null> {
    return cookieValue ? this.sessions.findByRefreshToken(cookieValue) : null;
  }

  /**
   * Whether the browser's session answers a login prompt with these reasons: any session does for
   * "not signed in"; `prompt=login`, `max_age` and the like need a sign-in since we sent the user to
   * the pages (`signedInSince`, epoch ms; undefined before we have).
   */
  static sessionAnswers(reasons: string[], session: Session, signedInSince: number | undefined): boolean {
    if (reasons.every((reason) => ANY_SESSION_WILL_DO.has(reason))) return true;
    return signedInSince !== undefined && session.createdAt.getTime() >= signedInSince;
  }

  private configuration(library: Library): Configuration {
    const audience = this.config.jwt.audience;
    const { Check } = library.interactionPolicy;
    const policy = library.interactionPolicy.base();
    // The library's session must stand for the session the browser holds at our pages: same user,
    // same sign-in. Otherwise (signed out there, or signed in again) the login step runs again.
    policy.get('login')!.checks.add(
      new Check('browser_session', 'the browser is not signed in with this session', async (ctx) => {
        const session = ctx.oidc.session!;
        if (!session.accountId) return Check.NO_NEED_TO_PROMPT;
        const browser = await this.browserSessionOf(ctx);
        return browser && browser.userId === session.accountId && session.loginTs === authTimeOf(browser)
          ? Check.NO_NEED_TO_PROMPT
          : Check.REQUEST_PROMPT;
      }),
    );

    return {
      adapter: (model: string) => this.adapterFor(library, model),
      findAccount: async (_ctx, sub) => {
        const user = await this.users.findById(sub);
        return user
          ? {
              accountId: user.id,
              claims: () => ({ sub: user.id, email: user.email, email_verified: true, name: user.name ?? undefined }),
            }
          : undefined;
      },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      scopes: SCOPES,
      conformIdTokenClaims: false,
      responseTypes: ['code'],
      pkce: { methods: ['S256'], required: () => true },
      allowOmittingSingleRegisteredRedirectUri: false,
      clientDefaults: {
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        id_token_signed_response_alg: SIGNING_ALGORITHM,
        require_auth_time: true,
      },
      clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
      enabledJWA: { idTokenSigningAlgValues: [SIGNING_ALGORITHM, RSA_SIGNING_ALGORITHM] },
      jwks: { keys: [...this.keys.all.map((key) => privateJwk(key, SIGNING_ALGORITHM)), ...this.rsaJwks()] },
      cookies: {
        keys: [createHmac('sha256', this.secrets.cookieKey).update('oidc-provider').digest('base64url')],
        names: { session: 'otp_oidc_session', interaction: 'otp_oidc_interaction', resume: 'otp_oidc_resume' },
      },
      routes: OIDC_ROUTES,
      discovery: { userinfo_endpoint: `${this.config.oidcIssuer}${OIDC_ROUTES.userinfo}` },
      ttl: {
        AuthorizationCode: AUTHORIZATION_CODE_TTL_SECONDS,
        AccessToken: this.config.jwt.accessTtlSeconds,
        IdToken: ID_TOKEN_TTL_SECONDS,
        RefreshToken: this.config.jwt.refreshTtlSeconds,
        Interaction: INTERACTION_TTL_SECONDS,
        Session: this.config.jwt.sessionMaxAgeSeconds,
        Grant: this.config.jwt.sessionMaxAgeSeconds,
      },
      rotateRefreshToken: true,
      interactions: { policy, url: (_ctx, interaction) => `/oidc/interaction/${interaction.uid}` },
      loadExistingGrant: (ctx) => this.grantFor(ctx),
      extraTokenClaims: (_ctx, token) => ({ sid: (token as { sid?: string }).sid, roles: ['user'] }),
      clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((uri) => originOf(uri) === origin) ?? false,
      renderError: (ctx, out) => {
        ctx.type = 'html';
        ctx.body = this.pages.error(
          'This sign-in request cannot continue',
          `${out.error_description ?? out.error}. Go back to the app and try again.`,
        );
      },
      features: {
        devInteractions: { enabled: false },
        userinfo: { enabled: false },
        introspection: { enabled: false },
        revocation: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => audience,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, indicator) => {
            if (indicator !== audience) throw new library.errors.InvalidTarget();
            return {
              scope: ACCESS_TOKEN_SCOPE,
              audience,
              accessTokenTTL: this.config.jwt.accessTtlSeconds,
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: SIGNING_ALGORITHM } },
            };
          },
        },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: (ctx, form) => {
            ctx.type = 'html';
            ctx.body = this.pages.oidcLogout(form, ctx.oidc.client?.clientName);
          },
          postLogoutSuccessSource: (ctx) => {
            ctx.type = 'html';
            ctx.body = this.pages.signedOut();
          },
        },
      },
    };
  }

  private rsaJwks() {
    return this.keys.rsa ? [privateJwk(this.keys.rsa, RSA_SIGNING_ALGORITHM)] : [];
  }

  /**
   * Our first-party clients need no consent: the grant gets what was asked. Every authorization
   * also records the browser's session as the client's `sid`, so its tokens die with that session.
   */
  private async grantFor(ctx: KoaContextWithOIDC) {
    const session = ctx.oidc.session!;
    const client = ctx.oidc.client!;
    const browser = await this.browserSessionOf(ctx);
    if (browser && browser.userId === session.accountId) session.sidFor(client.clientId, browser.id);
    const grantId = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
    const existing = grantId ? await this.provider.Grant.find(grantId) : undefined;
    const grant =
      existing && existing.accountId === session.accountId
        ? existing
        : new this.provider.Grant({ accountId: session.accountId!, clientId: client.clientId });
    grant.addOIDCScope([...ctx.oidc.requestParamScopes].filter((scope) => SCOPES.includes(scope)).join(' '));
    for (const [indicator, server] of Object.entries(ctx.oidc.resourceServers ?? {}))
      if (server.scope) grant.addResourceScope(indicator, server.scope);
    await grant.save();
    return grant;
  }

  private browserSessionOf(ctx: KoaContextWithOIDC): Promise<Session | null> {
    return this.browserSession(ctx.cookies.get(this.cookies.sessionCookieName, { signed: false }));
  }

  /**
   * The storage adapter: clients from the registry, everything else from the database. A code or a
   * refresh token whose session (`sid`) has ended is as good as gone.
   */
  private adapterFor(library: Library, model: string): Adapter {
    if (model === 'Client') return this.clientAdapter();
    const Storage = this.storage.adapterClass(() => {
      throw new library.errors.InvalidGrant('grant request is invalid');
    });
    const stored = new Storage(model) as unknown as Adapter;
    if (model !== 'AuthorizationCode' && model !== 'RefreshToken') return stored;
    return Object.assign(Object.create(stored) as Adapter, {
      find: async (id: string) => {
        const payload = await stored.find(id);
        return payload && (!payload.sid || (await this.sessions.findLive(payload.sid))) ? payload : undefined;
      },
    });
  }

  private clientAdapter(): Adapter {
    const readOnly = () => Promise.reject(new Error('clients are registered with the CLI or the admin API'));
    return {
      find: async (clientId: string) => {
        const metadata = await this.clients.providerMetadata(clientId);
        // One registered secret, either way of presenting it: openid-client posts it by default,
        // most frameworks send it as HTTP Basic.
        if (metadata && metadata.token_endpoint_auth_method !== 'none')
          metadata.token_endpoint_auth_method = this.requests.getStore()?.basicAuth
            ? 'client_secret_basic'
            : 'client_secret_post';
        return metadata;
      },
      upsert: readOnly,
      findByUid: readOnly,
      findByUserCode: readOnly,
      consume: readOnly,
      destroy: readOnly,
      revokeByGrantId: readOnly,
    };
  }

  /** What our service adds around the library's steps: audit, and our sessions ended with its logout. */
  private async afterProtocolStep(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    await next();
    const route = ctx.oidc?.route;
    const client = { ...this.requests.getStore()!.client, oidcClientId: ctx.oidc?.client?.clientId };
    if ((route === 'authorization' || route === 'resume') && ctx.oidc.entities.AuthorizationCode) {
      const code = ctx.oidc.entities.AuthorizationCode;
      await this.audit.record([
        {
          type: 'oidc.authorized',
          userId: code.accountId ?? null,
          sessionId: code.sid ?? null,
          client,
          details: { clientId: code.clientId, scope: code.scope },
        },
      ]);
    } else if (route === 'token' && ctx.status === 400 && ctx.oidc.entities.RefreshToken?.consumed) {
      // The library revoked the grant; as with the API's refresh tokens, the session ends too.
      const { accountId, sid } = ctx.oidc.entities.RefreshToken;
      if (accountId && sid) {
        await this.sessions.revokeOwn(accountId, sid, client, 'refresh_token_reused');
        await this.audit.record([
          {
            type: 'refresh_token.reused',
            userId: accountId,
            sessionId: sid,
            client,
            details: { clientId: client.oidcClientId },
          },
        ]);
      }
    } else if (route === 'end_session' && ctx.status === 200) {
      // The confirmation (or, without a session to end, the form the library posts by itself) posts
      // to us and is redirected to the client: the form may go there.
      const origins = (ctx.oidc.client?.postLogoutRedirectUris ?? []).map(originOf);
      const policy = String(ctx.response.get('content-security-policy'));
      ctx.set(
        'content-security-policy',
        policy.replace("form-action 'self'", `form-action 'self' ${origins.join(' ')}`),
      );
    } else if (route === 'end_session_confirm' && ctx.oidc.params?.logout) {
      await this.endSessions(ctx, client);
    }
  }

  /** RP-initiated logout ends the browser's session and every session the library tied to it, as the API's logout does. */
  private async endSessions(ctx: KoaContextWithOIDC, client: ClientContext): Promise<void> {
    const session = ctx.oidc.session!;
    // Without a signed-in session of its own the library asks nobody and posts its form by itself:
    // ending ours then would let a link from any site sign the browser out of our pages.
    if (!session.accountId) return;
    const browser = await this.browserSessionOf(ctx);
    const ended = new Map<string, string>();
    if (browser) ended.set(browser.id, browser.userId);
    for (const { sid } of Object.values(session.authorizations ?? {}))
      if (sid && session.accountId) ended.set(sid, session.accountId);
    for (const [sessionId, userId] of ended) await this.sessions.revokeOwn(userId, sessionId, client, 'logout');
    ctx.append('set-cookie', this.cookies.clearedSessionCookie());
  }
}

function privateJwk(key: SigningKey, alg: string) {
  return { ...key.privateKey.export({ format: 'jwk' }), kid: key.kid, alg, use: 'sig' };
}

/** `auth_time` of a session: when its sign-in happened, in seconds. */
export function authTimeOf(session: Session): number {
  return Math.floor(session.createdAt.getTime() / 1000);
}

/** A URI's origin for CORS and CSP; for a native app's private-use scheme, the scheme. */
function originOf(uri: string): string {
  const url = new URL(uri);
  return url.origin === 'null' ? url.protocol : url.origin;
}
