import { spawn } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, JwtPayload, verify } from 'jsonwebtoken';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { Clock } from '../../src/common/clock';
import { COMPILED_MAIN, freePort } from '../support/app-process';
import { runCli } from '../support/cli';
import { uniqueEmail } from '../support/factories';
import { RelyingPartyServer, signInAtPages } from '../support/relying-party';
import { CHROMIUM_PATH, describeWith } from '../support/services';
import { BACKENDS, newSigningKeyPem, startTestApp, TestApp } from '../support/test-app';

const newRsaKeyPem = () =>
  generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

type OpenIdClient = typeof import('openid-client');

interface RegisteredClient {
  client_id: string;
  client_secret?: string;
}

for (const { backend, needs } of BACKENDS) {
  describeWith(['chromium', ...needs], `OpenID provider, with openid-client and Chromium (${backend})`, () => {
    let oc: OpenIdClient;
    let app: TestApp;
    let rp: RelyingPartyServer;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let confidential: RegisteredClient;
    let serviceToken: string;

    async function register(...args: string[]): Promise<RegisteredClient> {
      const added = await runCli(app, 'client', 'add', '--name', 'Notes', '--redirect-uri', rp.callback, ...args);
      expect(added).toMatchObject({ status: 0, stderr: '' });
      return JSON.parse(added.stdout) as RegisteredClient;
    }

    function configFor(
      client: RegisteredClient,
      auth = client.client_secret ? oc.ClientSecretPost(client.client_secret) : oc.None(),
    ) {
      return oc.discovery(new URL(app.url), client.client_id, undefined, auth, { execute: [oc.allowInsecureRequests] });
    }

    /** Starts an authorization in the browser; resolves once the browser is back at the callback. */
    async function authorize(
      config: Awaited<ReturnType<OpenIdClient['discovery']>>,
      {
        email,
        prompt,
        scope = 'openid email profile offline_access',
      }: { email?: string; prompt?: string; scope?: string } = {},
    ) {
      const verifier = oc.randomPKCECodeVerifier();
      const state = oc.randomState();
      const nonce = oc.randomNonce();
      const url = oc.buildAuthorizationUrl(config, {
        redirect_uri: rp.callback,
        scope,
        code_challenge: await oc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        ...(prompt ? { prompt } : {}),
      });
      await page.goto(url.href);
      if (email) await signInAtPages(page, app, email, rp.callback);
      else await page.waitForURL(`${rp.callback}**`);
      const callback = new URL(page.url());
      expect(callback.searchParams.get('state')).toBe(state);
      return { callback, verifier, state, nonce };
    }

    async function exchange(
      config: Awaited<ReturnType<OpenIdClient['discovery']>>,
      { callback, verifier, state, nonce }: Awaited<ReturnType<typeof authorize>>,
    ) {
      return oc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
        idTokenExpected: true,
      });
    }

    /** Checks a JWT's signature with the key the JWKS names for it. */
    async function verifiedWithJwks(token: string, options: { typ?: string } = {}): Promise<JwtPayload> {
      const { header } = decode(token, { complete: true })!;
      const jwks = await app.request<{ keys: (JsonWebKey & { kid: string; alg: string })[] }>(
        'GET',
        '/.well-known/jwks.json',
      );
      const jwk = jwks.body.keys.find((key) => key.kid === header.kid);
      expect(jwk?.alg).toBe(header.alg);
      if (options.typ) expect(header.typ).toBe(options.typ);
      return verify(
        token,
        createPublicKey({ key: jwk as unknown as import('node:crypto').JsonWebKey, format: 'jwk' }),
        {
          algorithms: [header.alg as 'ES256' | 'RS256'],
          issuer: app.url,
        },
      ) as JwtPayload;
    }

    async function introspect(token: string) {
      return (
        await app.request('POST', '/api/v1/auth/introspect', {
          json: { token },
          headers: { authorization: `Bearer ${serviceToken}` },
        })
      ).body;
    }

    beforeAll(async () => {
      oc = await import('openid-client');
      rp = new RelyingPartyServer();
      await rp.start();
      const port = await freePort();
      app = await startTestApp({
        backend,
        port,
        env: {
          PUBLIC_URL: `http://127.0.0.1:${port}`,
          OTP_RESEND_COOLDOWN_SECONDS: '0',
          JWT_RSA_PRIVATE_KEY: newRsaKeyPem(),
        },
      });
      confidential = await register('--post-logout-redirect-uri', rp.loggedOut);
      const minted = await runCli(app, 'token', '--service', 'apps', '--scope', 'tokens:introspect', '--ttl', '1h');
      serviceToken = minted.stdout.trim();
      browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox', '--disable-gpu'] });
    });

    afterAll(async () => {
      await browser?.close();
      await app?.close();
      await rp?.stop();
    });

    beforeEach(async () => {
      context = await browser.newContext();
      page = await context.newPage();
    });
    afterEach(() => context?.close());

    it('publishes discovery with the contract’s endpoints, methods and algorithms', async () => {
      const discovery = await app.request('GET', '/.well-known/openid-configuration');
      expect(discovery.status).toBe(200);
      expect(discovery.headers.get('x-request-id')).toBeTruthy();
      expect(discovery.body).toMatchObject({
        issuer: app.url,
        jwks_uri: `${app.url}/.well-known/jwks.json`,
        userinfo_endpoint: `${app.url}/oidc/me`,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
        scopes_supported: expect.arrayContaining(['openid', 'email', 'profile', 'offline_access']),
        token_endpoint_auth_methods_supported: expect.arrayContaining([
          'client_secret_basic',
          'client_secret_post',
          'none',
        ]),
        id_token_signing_alg_values_supported: expect.arrayContaining(['ES256', 'RS256']),
      });
      expect(discovery.body.end_session_endpoint).toBe(`${app.url}/oidc/session/end`);
    });

    it('signs a user in through the pages: code + PKCE, ID token and RFC 9068 access token checked against the JWKS, userinfo', async () => {
      const email = uniqueEmail('oidc');
      const config = await configFor(confidential);
      const tokens = await exchange(config, await authorize(config, { email }));

      const claims = tokens.claims()!;
      const idToken = await verifiedWithJwks(tokens.id_token!);
      expect(idToken).toMatchObject({ sub: claims.sub, aud: confidential.client_id, email, email_verified: true });
      expect(idToken.nonce).toBeDefined();
      expect(typeof idToken.auth_time).toBe('number');
      expect(typeof idToken.sid).toBe('string');

      const accessToken = await verifiedWithJwks(tokens.access_token, { typ: 'at+jwt' });
      expect(accessToken).toMatchObject({
        sub: claims.sub,
        sid: idToken.sid,
        client_id: confidential.client_id,
        aud: app.url,
      });
      expect(accessToken.scope).toContain('openid');

      // The same user and session as the API's: `sub` is the user id, `sid` the session the audit trail names.
      const me = await app.request('GET', '/api/v1/users/me', {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ id: claims.sub, email });
      expect(await introspect(tokens.access_token)).toMatchObject({ active: true, sub: claims.sub, sid: idToken.sid });

      expect(await oc.fetchUserInfo(config, tokens.access_token, claims.sub)).toMatchObject({
        sub: claims.sub,
        email,
        email_verified: true,
      });
    });

    it('does not ask a browser that is signed in again; prompt=login does', async () => {
      const email = uniqueEmail('oidc-again');
      const config = await configFor(confidential);
      const first = await exchange(config, await authorize(config, { email }));
      const mails = app.sink.messagesTo(email).length;

      const second = await exchange(config, await authorize(config));
      expect(app.sink.messagesTo(email)).toHaveLength(mails);
      expect(second.claims()).toMatchObject({
        sub: first.claims()!.sub,
        sid: first.claims()!.sid,
        auth_time: first.claims()!.auth_time,
      });

      const forced = await exchange(config, await authorize(config, { email, prompt: 'login' }));
      expect(app.sink.messagesTo(email)).toHaveLength(mails + 1);
      expect(forced.claims()!.sub).toBe(first.claims()!.sub);
      expect(forced.claims()!.sid).not.toBe(first.claims()!.sid);
    });

    it('never redirects to an unregistered redirect URI or for an unknown client', async () => {
      const hits = rp.hits.length;
      for (const query of [
        `client_id=${confidential.client_id}&redirect_uri=${encodeURIComponent(`${rp.url}/elsewhere`)}`,
        `client_id=${confidential.client_id}&redirect_uri=${encodeURIComponent(`${rp.callback}/`)}`,
        `client_id=nobody&redirect_uri=${encodeURIComponent(rp.callback)}`,
      ]) {
        const response = await page.goto(
          `${app.url}/oidc/auth?${query}&response_type=code&scope=openid&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`,
        );
        expect(response!.status()).toBe(400);
        expect(new URL(page.url()).origin).toBe(app.url);
      }
      expect(rp.hits).toHaveLength(hits);
    });

    it('takes a code once, and only within its 60 seconds', async () => {
      const config = await configFor(confidential);
      const authorization = await authorize(config, { email: uniqueEmail('oidc-code') });
      await exchange(config, authorization);
      await expect(exchange(config, authorization)).rejects.toMatchObject({ error: 'invalid_grant' });

      const late = await authorize(config);
      const clock = app.app.get(Clock);
      const now = clock.now();
      const moved = jest.spyOn(clock, 'now').mockReturnValue(now + 61_000);
      try {
        await expect(exchange(config, late)).rejects.toMatchObject({ error: 'invalid_grant' });
      } finally {
        moved.mockRestore();
      }
    });

    it('rotates refresh tokens; presenting a used one ends the session everywhere', async () => {
      const config = await configFor(confidential);
      const tokens = await exchange(
        config,
        await authorize(config, { email: uniqueEmail('oidc-refresh'), prompt: 'consent' }),
      );
      const refreshed = await oc.refreshTokenGrant(config, tokens.refresh_token!);
      expect(refreshed.refresh_token).toBeDefined();
      expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
      expect(await introspect(refreshed.access_token)).toMatchObject({ active: true });

      await expect(oc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
      await expect(oc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
      expect(await introspect(refreshed.access_token)).toEqual({ active: false });
      const me = await app.request('GET', '/api/v1/users/me', {
        headers: { authorization: `Bearer ${refreshed.access_token}` },
      });
      expect(me.status).toBe(401);
    });

    it('ends an app’s tokens when the account is deleted, with the app’s own token (same session, same recent sign-in)', async () => {
      const config = await configFor(confidential);
      const tokens = await exchange(
        config,
        await authorize(config, { email: uniqueEmail('oidc-delete'), prompt: 'consent' }),
      );
      const deleted = await app.request('DELETE', '/api/v1/users/me', {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      expect(deleted.status).toBe(204);
      expect(await introspect(tokens.access_token)).toEqual({ active: false });
      await expect(oc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
    });

    it('serves a public client without a secret, and RS256 ID tokens to a client registered for them', async () => {
      const publicClient = await register('--public', '--id-token-alg', 'RS256');
      expect(publicClient.client_secret).toBeUndefined();
      const config = await configFor(publicClient);
      const tokens = await exchange(config, await authorize(config, { email: uniqueEmail('oidc-public') }));
      expect(decode(tokens.id_token!, { complete: true })!.header.alg).toBe('RS256');
      expect(await verifiedWithJwks(tokens.id_token!)).toMatchObject({ aud: publicClient.client_id });
    });

    it('accepts the secret as HTTP Basic as well as posted', async () => {
      const config = await configFor(confidential, oc.ClientSecretBasic(confidential.client_secret));
      const tokens = await exchange(config, await authorize(config, { email: uniqueEmail('oidc-basic') }));
      expect(tokens.access_token).toBeDefined();
      const wrong = await configFor(confidential, oc.ClientSecretBasic('not-the-secret'));
      await expect(exchange(wrong, await authorize(wrong))).rejects.toMatchObject({ status: 401 });
    });

    it('ends the session everywhere at the end-session endpoint and returns to the app', async () => {
      const config = await configFor(confidential);
      const tokens = await exchange(
        config,
        await authorize(config, { email: uniqueEmail('oidc-logout'), prompt: 'consent' }),
      );
      expect(await introspect(tokens.access_token)).toMatchObject({ active: true });

      const logout = oc.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: rp.loggedOut,
        state: 'bye',
      });
      await page.goto(logout.href);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${rp.loggedOut}**`);
      expect(new URL(page.url()).searchParams.get('state')).toBe('bye');

      expect(await introspect(tokens.access_token)).toEqual({ active: false });
      const me = await app.request('GET', '/api/v1/users/me', {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      expect(me.status).toBe(401);
      await expect(oc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
      // The browser is signed out of our pages too: the next authorization asks for a code.
      await page.goto(
        oc.buildAuthorizationUrl(config, {
          redirect_uri: rp.callback,
          scope: 'openid',
          code_challenge: 'x'.repeat(43),
          code_challenge_method: 'S256',
        }).href,
      );
      await page.waitForURL(/\/login$/);
    });
  });
}

describe('OpenID provider: rate limits', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ backend: 'sqlite-memory', env: { RATE_LIMIT_GLOBAL_PER_IP_PER_MINUTE: '5' } });
  });
  afterAll(() => app?.close());

  it('puts the browser endpoints under the per-IP limit, not the token endpoint of the apps’ servers', async () => {
    const authorize = () => app.request('GET', '/oidc/auth?client_id=nobody&response_type=code&scope=openid');
    for (let i = 0; i < 5; i++) expect((await authorize()).status).toBe(400);
    const refused = await authorize();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.body).toMatchObject({ error: 'rate_limited' });
    expect(refused.headers.get('x-request-id')).toBeTruthy();

    for (let i = 0; i < 7; i++) {
      const token = await app.request('POST', '/oidc/token', {
        body: 'grant_type=authorization_code&code=x&client_id=nobody',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(token.status).toBe(401);
    }
  });
});

describe('OpenID provider: the compiled server in production', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'oidc-prod-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses to start, naming JWT_RSA_PRIVATE_KEY, once an RS256 client exists without that key', async () => {
    const env = {
      DATABASE_URL: `sqlite:${join(dir, 'app.sqlite')}`,
      SECRET_KEY: randomBytes(32).toString('hex'),
      JWT_PRIVATE_KEY: newSigningKeyPem(),
      MAIL_SERVER: '127.0.0.1',
      LOG_LEVEL: 'silent',
    };
    const added = await runCli(
      { env: { ...env, NODE_ENV: 'test', JWT_RSA_PRIVATE_KEY: newRsaKeyPem() } },
      ...[
        'client',
        'add',
        '--name',
        'Legacy',
        '--redirect-uri',
        'https://legacy.example.com/cb',
        '--id-token-alg',
        'RS256',
      ],
    );
    expect(added).toMatchObject({ status: 0, stderr: '' });

    const server = spawn(process.execPath, [COMPILED_MAIN], {
      cwd: dir,
      env: { PATH: process.env.PATH, ...env, NODE_ENV: 'production', PORT: String(await freePort()) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    server.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise((resolve) => server.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringContaining('JWT_RSA_PRIVATE_KEY')]);
  });
});
