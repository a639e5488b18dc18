import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { decode, JwtPayload } from 'jsonwebtoken';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { freePort } from '../support/app-process';
import { signIn, uniqueEmail } from '../support/factories';
import { PageClient } from '../support/page-client';
import { RelyingPartyServer, signInAtPages } from '../support/relying-party';
import { CHROMIUM_PATH, describeWith } from '../support/services';
import { BACKENDS, startTestApp, TestApp } from '../support/test-app';

const ADMIN = 'admin@example.com';
const NATIVE_CALLBACK = 'com.example.notes:/callback';
/** What a stack trace or an internal error leaves in an answer. */
const STACK_TRACE = /\bat [^\n]*:\d+:\d+|node_modules|[A-Za-z]+Error:/;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const BROWSER_ACCEPT = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

interface RegisteredClient {
  client_id: string;
  client_secret?: string;
}

interface AuthorizationRequest {
  url: string;
  verifier: string;
  state: string;
  nonce: string;
  redirectUri: string;
}

interface Tokens {
  access_token: string;
  id_token: string;
  refresh_token?: string;
  scope: string;
}

interface AuditItem {
  type: string;
  userId: string | null;
  email: string | null;
  sessionId: string | null;
  details: Record<string, unknown>;
}

/** The answer's parameters at the client's redirect URI: in the query, or in the fragment for a fragment response mode. */
function answerAt(location: string): URLSearchParams {
  const url = new URL(location);
  return new URLSearchParams(url.search || url.hash.slice(1));
}

const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
function headerText(response: Response): string {
  const lines: string[] = [];
  response.headers.forEach((value, name) => lines.push(`${name}: ${value}`));
  return `${lines.join('\n')}\n\n`;
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const { backend, needs } of BACKENDS) {
  describeWith(['chromium', ...needs], `OpenID provider under bad input, audited (${backend})`, () => {
    let app: TestApp;
    let rp: RelyingPartyServer;
    let browser: Browser;
    let adminToken: string;
    let confidential: RegisteredClient;
    let otherConfidential: RegisteredClient;
    let publicClient: RegisteredClient;
    let native: RegisteredClient;
    /** A browser signed in at the pages, whose authorizations are answered at once. */
    let signedIn: PageClient;
    const logLines: string[] = [];
    /** Every client secret, code, refresh and access token seen: none may show up in the trail, the logs or an error. */
    const secrets: { kind: string; value: string }[] = [];
    /** Every error answer of the protocol endpoints, headers and body. */
    const errorAnswers: string[] = [];

    function keep(kind: string, value: string | undefined | null) {
      if (value) secrets.push({ kind, value });
    }

    async function register(body: Record<string, unknown>): Promise<RegisteredClient> {
      const created = await app.request<RegisteredClient>('POST', '/api/v1/admin/clients', {
        json: { name: 'Notes', ...body },
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(created.status).toBe(201);
      keep('client secret', created.body.client_secret);
      return created.body;
    }

    async function newSignedIn(label: string): Promise<{ pages: PageClient; email: string }> {
      const pages = new PageClient(app);
      const email = uniqueEmail(label);
      await pages.signIn(email);
      return { pages, email };
    }

    function authorizationRequest(
      client: RegisteredClient,
      params: Record<string, string | undefined> = {},
    ): AuthorizationRequest {
      const verifier = randomBytes(32).toString('base64url');
      const state = randomBytes(8).toString('hex');
      const nonce = randomBytes(8).toString('hex');
      const query: Record<string, string | undefined> = {
        client_id: client.client_id,
        redirect_uri: rp.callback,
        response_type: 'code',
        scope: 'openid email profile',
        state,
        nonce,
        code_challenge: s256(verifier),
        code_challenge_method: 'S256',
        ...params,
      };
      const defined = Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined);
      return {
        url: `${app.url}/oidc/auth?${new URLSearchParams(defined)}`,
        verifier,
        state: query.state!,
        nonce: query.nonce!,
        redirectUri: query.redirect_uri ?? rp.callback,
      };
    }

    /** An authorization answered at once for a browser signed in at the pages: the code it sent back. */
    async function authorizedCode(
      client: RegisteredClient,
      params: Record<string, string | undefined> = {},
      pages = signedIn,
    ) {
      const request = authorizationRequest(client, params);
      const { location } = await pages.follow(request.url);
      expect(location).toBeDefined();
      const answer = answerAt(location!);
      expect(answer.get('state')).toBe(request.state);
      const code = answer.get('code');
      expect(code).toEqual(expect.any(String));
      keep('authorization code', code);
      return { ...request, code: code!, location: location! };
    }

    function tokenRequest(body: string | undefined, headers: Record<string, string> = FORM) {
      return fetch(`${app.url}/oidc/token`, { method: 'POST', body, headers });
    }

    function clientAuthentication(client: RegisteredClient): Record<string, string> {
      return client.client_secret
        ? { client_id: client.client_id, client_secret: client.client_secret }
        : { client_id: client.client_id };
    }

    async function exchange(
      client: RegisteredClient,
      { code, verifier, redirectUri }: { code: string; verifier: string; redirectUri: string },
    ): Promise<Tokens> {
      const response = await tokenRequest(
        form({
          grant_type: 'authorization_code',
          code,
          code_verifier: verifier,
          redirect_uri: redirectUri,
          ...clientAuthentication(client),
        }),
      );
      expect([response.status, await response.clone().text()]).toEqual([200, expect.stringContaining('access_token')]);
      const tokens = (await response.json()) as Tokens;
      keep('access token', tokens.access_token);
      keep('refresh token', tokens.refresh_token);
      return tokens;
    }

    async function refresh(client: RegisteredClient, refreshToken: string): Promise<Response> {
      const response = await tokenRequest(
        form({ grant_type: 'refresh_token', refresh_token: refreshToken, ...clientAuthentication(client) }),
      );
      if (response.status === 200) {
        const tokens = (await response.clone().json()) as Tokens;
        keep('access token', tokens.access_token);
        keep('refresh token', tokens.refresh_token);
      }
      return response;
    }

    function expectRequestId(response: Response) {
      expect(response.headers.get('x-request-id')).toMatch(/^\S+$/);
    }

    /** An OAuth error (RFC 6749 §5.2): this status, JSON with exactly `error` and `error_description`. */
    async function expectOAuthError(response: Response, status: number, error: string) {
      const text = await response.text();
      errorAnswers.push(headerText(response) + text);
      expect({ status: response.status, type: response.headers.get('content-type') }).toEqual({
        status,
        type: expect.stringContaining('application/json'),
      });
      const body = JSON.parse(text) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
      expect(body).toEqual({ error, error_description: expect.any(String) });
      expect(text).not.toMatch(STACK_TRACE);
      expectRequestId(response);
      return body;
    }

    /** The error page a browser gets on the service's own origin: 400, HTML, no redirect. */
    async function expectErrorPage(response: Response) {
      const text = await response.text();
      errorAnswers.push(headerText(response) + text);
      expect({
        status: response.status,
        type: response.headers.get('content-type'),
        location: response.headers.get('location'),
      }).toEqual({ status: 400, type: expect.stringContaining('text/html'), location: null });
      expect(text).not.toMatch(STACK_TRACE);
      expectRequestId(response);
      return text;
    }

    async function auditEvents(query: Record<string, string>): Promise<AuditItem[]> {
      const response = await app.request<{ items: AuditItem[] }>(
        'GET',
        `/api/v1/admin/audit?${new URLSearchParams({ limit: '500', ...query })}`,
        { headers: { authorization: `Bearer ${adminToken}` } },
      );
      expect(response.status).toBe(200);
      return response.body.items;
    }

    async function authorizedEventsOf(client: RegisteredClient): Promise<AuditItem[]> {
      return (await auditEvents({ type: 'oidc.authorized' })).filter(
        (event) => event.details.clientId === client.client_id,
      );
    }

    function userinfo(authorization?: string) {
      return fetch(`${app.url}/oidc/me`, { headers: authorization ? { authorization } : {} });
    }

    beforeAll(async () => {
      rp = new RelyingPartyServer();
      await rp.start();
      const port = await freePort();
      app = await startTestApp({
        backend,
        port,
        logStream: new Writable({ write: (chunk, _encoding, done) => (logLines.push(String(chunk)), done()) }),
        env: {
          PUBLIC_URL: `http://127.0.0.1:${port}`,
          OTP_RESEND_COOLDOWN_SECONDS: '0',
          ADMIN_EMAILS: ADMIN,
          LOG_LEVEL: 'trace',
        },
      });
      ({ accessToken: adminToken } = await signIn(app, ADMIN));
      confidential = await register({ redirect_uris: [rp.callback], post_logout_redirect_uris: [rp.loggedOut] });
      otherConfidential = await register({ name: 'Other', redirect_uris: [rp.callback] });
      publicClient = await register({ name: 'Single page', redirect_uris: [rp.callback], public: true });
      native = await register({ name: 'Mobile', redirect_uris: [NATIVE_CALLBACK], public: true });
      ({ pages: signedIn } = await newSignedIn('signed-in'));
      browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox', '--disable-gpu'] });
    });

    afterAll(async () => {
      await browser?.close();
      await app?.close();
      await rp?.stop();
    });

    describe('the token endpoint', () => {
      let pending: Awaited<ReturnType<typeof authorizedCode>>;
      let another: Awaited<ReturnType<typeof authorizedCode>>;
      const validExchange = () => ({
        grant_type: 'authorization_code',
        code: pending.code,
        code_verifier: pending.verifier,
        redirect_uri: rp.callback,
      });

      beforeAll(async () => {
        pending = await authorizedCode(confidential);
        another = await authorizedCode(confidential);
      });

      it.each<[string, number, string, () => { body?: string; headers?: Record<string, string> }]>([
        ['no body at all', 400, 'invalid_request', () => ({ headers: {} })],
        ['an empty form', 400, 'invalid_request', () => ({ body: '' })],
        [
          'a JSON body',
          400,
          'invalid_request',
          () => ({
            body: JSON.stringify({ ...validExchange(), ...clientAuthentication(confidential) }),
            headers: { 'content-type': 'application/json' },
          }),
        ],
        [
          'a duplicated grant_type',
          400,
          'invalid_request',
          () => ({
            body: `${form({ ...validExchange(), ...clientAuthentication(confidential) })}&grant_type=authorization_code`,
          }),
        ],
        [
          'a duplicated code',
          400,
          'invalid_request',
          () => ({
            body: `${form({ ...validExchange(), ...clientAuthentication(confidential) })}&code=${another.code}`,
          }),
        ],
        [
          'an unknown grant_type',
          400,
          'unsupported_grant_type',
          () => ({ body: form({ ...validExchange(), grant_type: 'password', ...clientAuthentication(confidential) }) }),
        ],
        [
          'no code_verifier',
          400,
          'invalid_grant',
          () => {
            const fields: Record<string, string> = { ...validExchange(), ...clientAuthentication(confidential) };
            delete fields.code_verifier;
            return { body: form(fields) };
          },
        ],
        [
          'a wrong code_verifier',
          400,
          'invalid_grant',
          () => ({
            body: form({
              ...validExchange(),
              code_verifier: randomBytes(32).toString('base64url'),
              ...clientAuthentication(confidential),
            }),
          }),
        ],
        [
          "another code's code_verifier",
          400,
          'invalid_grant',
          () => ({
            body: form({ ...validExchange(), code_verifier: another.verifier, ...clientAuthentication(confidential) }),
          }),
        ],
        [
          'an unknown client',
          401,
          'invalid_client',
          () => ({ body: form({ ...validExchange(), client_id: 'nobody', client_secret: 'nothing' }) }),
        ],
        [
          'a wrong secret, posted',
          401,
          'invalid_client',
          () => ({
            body: form({ ...validExchange(), client_id: confidential.client_id, client_secret: 'not-the-secret' }),
          }),
        ],
        [
          'a wrong secret, as HTTP Basic',
          401,
          'invalid_client',
          () => ({
            body: form(validExchange()),
            headers: { ...FORM, authorization: basic(confidential.client_id, 'not-the-secret') },
          }),
        ],
        [
          'the secret both as HTTP Basic and posted',
          400,
          'invalid_request',
          () => ({
            body: form({ ...validExchange(), ...clientAuthentication(confidential) }),
            headers: { ...FORM, authorization: basic(confidential.client_id, confidential.client_secret!) },
          }),
        ],
        [
          "another client's code",
          400,
          'invalid_grant',
          () => ({ body: form({ ...validExchange(), ...clientAuthentication(otherConfidential) }) }),
        ],
        [
          'a redirect_uri other than the one authorized',
          400,
          'invalid_grant',
          () => ({
            body: form({
              ...validExchange(),
              redirect_uri: `${rp.url}/elsewhere`,
              ...clientAuthentication(confidential),
            }),
          }),
        ],
      ])('answers %s with %i %s', async (_name, status, error, request) => {
        const { body, headers } = request();
        const response = await tokenRequest(body, headers);
        await expectOAuthError(response, status, error);
        if (headers?.authorization && status === 401)
          expect(response.headers.get('www-authenticate')).toMatch(/^Basic\b.*error="invalid_client"/);
      });

      it('left both codes to their client: each exchanges once, and a replay is refused', async () => {
        const tokens = await exchange(confidential, pending);
        expect(decode(tokens.id_token)).toMatchObject({ aud: confidential.client_id, nonce: pending.nonce });
        expect((await userinfo(`Bearer ${tokens.access_token}`)).status).toBe(200);
        // The other code was only named in refused requests.
        expect(decode((await exchange(confidential, another)).id_token)).toMatchObject({ nonce: another.nonce });
        await expectOAuthError(
          await tokenRequest(form({ ...validExchange(), ...clientAuthentication(confidential) })),
          400,
          'invalid_grant',
        );
      });
    });

    describe('the authorization endpoint', () => {
      let authorizedBefore: number;

      beforeAll(async () => {
        authorizedBefore = (await authorizedEventsOf(confidential)).length;
      });

      it.each<[string, string, () => RegisteredClient, Record<string, string | undefined>, string]>([
        [
          'a confidential client without code_challenge',
          'invalid_request',
          () => confidential,
          { code_challenge: undefined, code_challenge_method: undefined },
          'PKCE',
        ],
        [
          'a public client without code_challenge',
          'invalid_request',
          () => publicClient,
          { code_challenge: undefined, code_challenge_method: undefined },
          'PKCE',
        ],
        [
          'code_challenge_method=plain',
          'invalid_request',
          () => confidential,
          { code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' },
          'code_challenge_method',
        ],
        [
          'a code_challenge of 5000 characters',
          'invalid_request',
          () => confidential,
          { code_challenge: 'x'.repeat(5000) },
          'code_challenge',
        ],
        ['response_type=token', 'unsupported_response_type', () => confidential, { response_type: 'token' }, ''],
        ['response_type=id_token', 'unsupported_response_type', () => confidential, { response_type: 'id_token' }, ''],
        ['only an unknown scope', 'invalid_request', () => confidential, { scope: 'calendar' }, 'openid scope'],
        [
          'a request object',
          'request_not_supported',
          () => confidential,
          { request: 'eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9.' },
          '',
        ],
        [
          'a request_uri',
          'request_uri_not_supported',
          () => confidential,
          { request_uri: 'https://attacker.example/request.jwt' },
          '',
        ],
      ])('sends %s back to the client with error=%s', async (_name, error, client, params, description) => {
        const request = authorizationRequest(client(), params);
        const { response, location } = await signedIn.follow(request.url);
        expect(response.status).toBe(303);
        expectRequestId(response);
        expect(await response.text()).not.toMatch(STACK_TRACE);
        expect(location!.startsWith(`${rp.callback}?`) || location!.startsWith(`${rp.callback}#`)).toBe(true);
        const answer = answerAt(location!);
        expect(answer.get('error')).toBe(error);
        expect(answer.get('error_description') ?? '').toContain(description);
        expect(answer.get('state')).toBe(request.state);
        expect(answer.get('iss')).toBe(app.url);
        expect(answer.has('code')).toBe(false);
      });

      it.each([
        ['state', 'another'],
        ['code_challenge', 'x'.repeat(43)],
        ['scope', 'openid'],
        ['response_type', 'code'],
      ])('sends a duplicated %s back to the client as invalid_request', async (name, value) => {
        const request = authorizationRequest(confidential);
        const { location } = await signedIn.follow(`${request.url}&${name}=${value}`);
        const answer = answerAt(location!);
        expect(location!.startsWith(`${rp.callback}?`)).toBe(true);
        expect(answer.get('error')).toBe('invalid_request');
        expect(answer.get('error_description')).toContain(`'${name}' parameter must not be provided twice`);
        expect(answer.has('code')).toBe(false);
      });

      it.each<[string, () => string]>([
        ['an unknown client', () => authorizationRequest({ client_id: 'nobody' }).url],
        [
          'a redirect_uri that is not registered',
          () => authorizationRequest(confidential, { redirect_uri: `${rp.url}/elsewhere` }).url,
        ],
        [
          'a redirect_uri registered for another client only',
          () => authorizationRequest(native, { redirect_uri: rp.callback }).url,
        ],
        ['no redirect_uri', () => authorizationRequest(confidential, { redirect_uri: undefined }).url],
        [
          'a duplicated client_id',
          () => `${authorizationRequest(confidential).url}&client_id=${confidential.client_id}`,
        ],
        [
          'a duplicated redirect_uri',
          () => `${authorizationRequest(confidential).url}&redirect_uri=${encodeURIComponent(rp.callback)}`,
        ],
        [
          'an unregistered redirect_uri and an unsupported response_type',
          () => authorizationRequest(confidential, { redirect_uri: `${rp.url}/x`, response_type: 'token' }).url,
        ],
      ])('shows %s an error page on its own origin and redirects nowhere', async (_name, url) => {
        const hits = rp.hits.length;
        const page = await expectErrorPage(await signedIn.send('GET', url()));
        expect(page).toContain('This sign-in request cannot continue');
        expect(rp.hits).toHaveLength(hits);
      });

      it('takes long parameters within the server’s limits, and refuses a request line beyond them with a 4xx', async () => {
        const { code, state } = await authorizedCode(confidential, {
          state: 's'.repeat(4000),
          nonce: 'n'.repeat(2000),
        });
        expect(state).toHaveLength(4000);
        expect(code).toEqual(expect.any(String));

        const hits = rp.hits.length;
        const huge = await signedIn.send('GET', authorizationRequest(confidential, { state: 's'.repeat(40_000) }).url);
        expect(huge.status).toBeGreaterThanOrEqual(400);
        expect(huge.status).toBeLessThan(500);
        expect(huge.headers.get('location')).toBeNull();
        expectRequestId(huge);
        expect(await huge.text()).not.toMatch(STACK_TRACE);
        expect(rp.hits).toHaveLength(hits);
      });

      it('ignores an unknown scope beside openid: the code and its tokens carry only what is supported', async () => {
        const authorized = await authorizedCode(confidential, { scope: 'openid email calendar' });
        const tokens = await exchange(confidential, authorized);
        expect(tokens.scope.split(' ')).not.toContain('calendar');
        expect(decode(tokens.access_token) as JwtPayload).toMatchObject({
          scope: expect.not.stringContaining('calendar'),
        });
      });

      it('authorized nothing for any of the refused requests', async () => {
        // Two codes above were issued on purpose: the long parameters and the unknown scope beside openid.
        expect(await authorizedEventsOf(confidential)).toHaveLength(authorizedBefore + 2);
        expect(await authorizedEventsOf(publicClient)).toHaveLength(0);
      });
    });

    describe('the end-session endpoint', () => {
      let session: { pages: PageClient; email: string };
      let tokens: Tokens;

      beforeAll(async () => {
        session = await newSignedIn('end-session');
        tokens = await exchange(confidential, await authorizedCode(confidential, {}, session.pages));
      });

      const query = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

      it.each<[string, string, () => string]>([
        [
          'an id_token_hint that is not a token',
          'invalid_request',
          () => query({ id_token_hint: 'garbage', post_logout_redirect_uri: rp.loggedOut }),
        ],
        [
          'an id_token_hint with a broken signature',
          'invalid_request',
          () =>
            query({ id_token_hint: `${tokens.id_token.slice(0, -6)}AAAAAA`, post_logout_redirect_uri: rp.loggedOut }),
        ],
        [
          'a post_logout_redirect_uri the client did not register',
          'invalid_request',
          () => query({ id_token_hint: tokens.id_token, post_logout_redirect_uri: `${rp.url}/phish` }),
        ],
        [
          'a post_logout_redirect_uri registered by another client only',
          'invalid_request',
          () => query({ client_id: otherConfidential.client_id, post_logout_redirect_uri: rp.loggedOut }),
        ],
        [
          'an unknown client_id',
          'invalid_client',
          () => query({ client_id: 'nobody', post_logout_redirect_uri: rp.loggedOut }),
        ],
        [
          'a duplicated post_logout_redirect_uri',
          'invalid_request',
          () =>
            `${query({ client_id: confidential.client_id, post_logout_redirect_uri: rp.loggedOut })}&post_logout_redirect_uri=${encodeURIComponent(rp.url)}`,
        ],
      ])('refuses %s with 400 %s, redirects nowhere and ends nothing', async (_name, error, endSessionQuery) => {
        const hits = rp.hits.length;
        const url = `/oidc/session/end?${endSessionQuery()}`;
        const page = await session.pages.send('GET', url, { headers: BROWSER_ACCEPT });
        expect(await expectErrorPage(page)).toContain('This sign-in request cannot continue');
        // A client that asks for JSON gets the OAuth error.
        await expectOAuthError(await session.pages.send('GET', url), 400, error);
        expect(rp.hits).toHaveLength(hits);
        expect((await userinfo(`Bearer ${tokens.access_token}`)).status).toBe(200);
      });

      it('never goes to a post_logout_redirect_uri without a client to check it against, nor ends a session unasked', async () => {
        const bystander = await newSignedIn('bystander');
        const asked = await bystander.pages.send(
          'GET',
          `/oidc/session/end?${new URLSearchParams({ post_logout_redirect_uri: rp.loggedOut })}`,
        );
        expect(asked.status).toBe(200);
        const confirmation = await asked.text();
        const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirmation)![1];
        const confirmed = await bystander.pages.send('POST', '/oidc/session/end/confirm', {
          form: { xsrf, logout: 'yes' },
        });
        expectRequestId(confirmed);
        const next = new URL(confirmed.headers.get('location')!, app.url);
        expect(next.origin).toBe(app.url);
        expect(next.pathname).toBe('/oidc/session/end/success');
        // Nobody was asked (the provider had no session in this browser): the pages' session lives on.
        expect((await bystander.pages.send('GET', '/dashboard')).status).toBe(200);
      });
    });

    describe('the userinfo endpoint', () => {
      it('answers no token with 401 and a bare Bearer challenge', async () => {
        const response = await userinfo();
        expect(response.headers.get('www-authenticate')).toBe('Bearer');
        await expectOAuthError(response, 401, 'invalid_token');
      });

      it.each([
        ['a garbage token', () => 'Bearer garbage'],
        ['a token of another scheme', () => basic('someone', 'password')],
        ['a JWT with alg none', () => 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'],
      ])('answers %s with 401 invalid_token in WWW-Authenticate', async (_name, authorization) => {
        const response = await userinfo(authorization());
        const challenge = response.headers.get('www-authenticate') ?? '';
        expect(challenge).toMatch(/^Bearer\b/);
        if (challenge !== 'Bearer') expect(challenge).toContain('error="invalid_token"');
        await expectOAuthError(response, 401, 'invalid_token');
      });

      it("answers the API's own access token (no openid scope: not an OpenID grant) with 403 insufficient_scope", async () => {
        const api = await signIn(app);
        keep('access token', api.accessToken);
        keep('refresh token', api.refreshToken);
        expect(
          (await app.request('GET', '/api/v1/users/me', { headers: { authorization: `Bearer ${api.accessToken}` } }))
            .status,
        ).toBe(200);
        const response = await userinfo(`Bearer ${api.accessToken}`);
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope"/);
        await expectOAuthError(response, 403, 'insufficient_scope');
      });

      it('answers an access token of its own, and refuses it once its session has ended', async () => {
        const session = await newSignedIn('userinfo');
        const tokens = await exchange(confidential, await authorizedCode(confidential, {}, session.pages));
        const answered = await userinfo(`Bearer ${tokens.access_token}`);
        expect(answered.status).toBe(200);
        expect(await answered.json()).toMatchObject({ email: session.email, email_verified: true });
        expectRequestId(answered);

        const dashboard = await (await session.pages.send('GET', '/dashboard')).text();
        const _csrf = /name="_csrf" value="([^"]+)"/.exec(dashboard)![1];
        expect((await session.pages.send('POST', '/logout', { form: { _csrf } })).status).toBe(303);
        const refused = await userinfo(`Bearer ${tokens.access_token}`);
        expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
        await expectOAuthError(refused, 401, 'invalid_token');
      });
    });

    describe('in a browser', () => {
      let context: BrowserContext;
      let page: Page;

      beforeEach(async () => {
        context = await browser.newContext();
        page = await context.newPage();
      });
      afterEach(() => context?.close());

      async function backAtTheApp(request: AuthorizationRequest) {
        await page.waitForURL(`${rp.callback}**`);
        const answer = answerAt(page.url());
        expect(answer.get('state')).toBe(request.state);
        const code = answer.get('code')!;
        keep('authorization code', code);
        return { ...request, code };
      }

      it('audits a sign-in through an app: otp.verified and session.created name the client, oidc.authorized the session of the ID token', async () => {
        const email = uniqueEmail('audited');
        const request = authorizationRequest(confidential);
        await page.goto(request.url);
        await signInAtPages(page, app, email, rp.callback);
        const tokens = await exchange(confidential, await backAtTheApp(request));
        const { sid, sub } = decode(tokens.id_token) as JwtPayload & { sid: string };

        const [verified] = await auditEvents({ type: 'otp.verified', email });
        expect(verified).toMatchObject({ userId: sub, sessionId: sid, details: { clientId: confidential.client_id } });
        const [created] = await auditEvents({ type: 'session.created', email });
        expect(created).toMatchObject({ userId: sub, sessionId: sid, details: { clientId: confidential.client_id } });
        const authorized = await auditEvents({ type: 'oidc.authorized', userId: sub! });
        expect(authorized).toEqual([
          expect.objectContaining({
            sessionId: sid,
            details: expect.objectContaining({ clientId: confidential.client_id }),
          }),
        ]);
      });

      it('asks for a code again once max_age has passed, and not before', async () => {
        const email = uniqueEmail('max-age');
        const first = authorizationRequest(confidential);
        await page.goto(first.url);
        await signInAtPages(page, app, email, rp.callback);
        const signedInAt = decode((await exchange(confidential, await backAtTheApp(first))).id_token) as JwtPayload;
        const mails = app.sink.messagesTo(email).length;

        const recent = authorizationRequest(confidential, { max_age: '3600' });
        await page.goto(recent.url);
        const again = decode((await exchange(confidential, await backAtTheApp(recent))).id_token) as JwtPayload;
        expect(app.sink.messagesTo(email)).toHaveLength(mails);
        expect(again).toMatchObject({ auth_time: signedInAt.auth_time, sid: signedInAt.sid });

        await sleep(2100);
        const stale = authorizationRequest(confidential, { max_age: '1' });
        await page.goto(stale.url);
        await signInAtPages(page, app, email, rp.callback);
        const fresh = decode((await exchange(confidential, await backAtTheApp(stale))).id_token) as JwtPayload;
        expect(app.sink.messagesTo(email)).toHaveLength(mails + 1);
        expect(fresh.auth_time).toBeGreaterThan(signedInAt.auth_time);
        expect(fresh.sid).not.toBe(signedInAt.sid);
        expect(fresh.sub).toBe(signedInAt.sub);
      });

      it('returns to the app after a sign-in finished through the link in the mail', async () => {
        const email = uniqueEmail('link');
        const request = authorizationRequest(publicClient);
        await page.goto(request.url);
        await page.waitForURL(/\/login$/);
        await page.getByLabel('Email address').fill(email);
        await page.getByRole('button', { name: 'Email me a code' }).click();
        const mail = await app.sink.waitForMessage(email);
        const link = /https?:\/\/\S+\/login\/link\?\S+/.exec(mail.text)![0];
        expect(new URL(link).origin).toBe(app.url);

        await page.goto(link);
        await page.getByRole('button', { name: 'Sign in' }).click();
        const tokens = await exchange(publicClient, await backAtTheApp(request));
        expect(decode(tokens.id_token)).toMatchObject({ email, aud: publicClient.client_id, nonce: request.nonce });
        const [created] = await auditEvents({ type: 'session.created', email });
        expect(created.details).toMatchObject({ clientId: publicClient.client_id });
      });

      it('signs nobody out of the pages from a link elsewhere: without a session at the provider there is nothing it asked about', async () => {
        const email = uniqueEmail('not-signed-out');
        await page.goto(`${app.url}/login`);
        await signInAtPages(page, app, email, `${app.url}/dashboard`);
        // Another site's link: the provider has no session of its own in this browser, so it asks nothing.
        await page.goto(`${rp.url}/elsewhere`);
        await page.goto(
          `${app.url}/oidc/session/end?${new URLSearchParams({ client_id: confidential.client_id, post_logout_redirect_uri: rp.loggedOut })}`,
        );
        // Back at the app: the self-posted form may be redirected there (CSP form-action).
        await page.waitForURL(`${rp.loggedOut}**`, { timeout: 10_000 });
        await page.goto(`${app.url}/dashboard`);
        expect(new URL(page.url()).pathname).toBe('/dashboard');
      });

      it('never shows a consent page, not even for prompt=consent', async () => {
        const shown: string[] = [];
        page.on('framenavigated', (frame) => {
          if (frame === page.mainFrame()) shown.push(frame.url());
        });
        const email = uniqueEmail('consent');
        const first = authorizationRequest(confidential, { prompt: 'consent', scope: 'openid offline_access' });
        await page.goto(first.url);
        await signInAtPages(page, app, email, rp.callback);
        const tokens = await exchange(confidential, await backAtTheApp(first));
        expect(tokens.refresh_token).toEqual(expect.any(String));
        // The pages the user saw: ours to sign in, then the app; none of the provider's (/oidc/...).
        const paths = shown.map((url) => new URL(url).pathname);
        expect(paths).toContain('/login');
        expect(paths.filter((path) => path.startsWith('/oidc/'))).toEqual([]);
        expect(paths.at(-1)).toBe('/callback');

        shown.length = 0;
        const again = authorizationRequest(confidential, { prompt: 'consent', scope: 'openid offline_access' });
        await page.goto(again.url);
        await backAtTheApp(again);
        expect(shown.map((url) => new URL(url).pathname)).toEqual(['/callback']);
      });
    });

    it('gives a native app (private-use scheme, prompt=consent, offline_access) its code without any page', async () => {
      const authorized = await authorizedCode(native, {
        redirect_uri: NATIVE_CALLBACK,
        prompt: 'consent',
        scope: 'openid email offline_access',
      });
      expect(authorized.location).toMatch(/^com\.example\.notes:\/callback\?/);
      const tokens = await exchange(native, authorized);
      expect(decode(tokens.id_token)).toMatchObject({ aud: native.client_id, nonce: authorized.nonce });
      expect((await refresh(native, tokens.refresh_token!)).status).toBe(200);
    });

    describe('audit of the tokens’ life', () => {
      it('records refresh_token.reused and session.revoked when a rotated refresh token comes back', async () => {
        const session = await newSignedIn('reuse');
        const tokens = await exchange(
          confidential,
          await authorizedCode(confidential, { prompt: 'consent', scope: 'openid offline_access' }, session.pages),
        );
        const { sid, sub } = decode(tokens.id_token) as JwtPayload & { sid: string };
        expect((await refresh(confidential, tokens.refresh_token!)).status).toBe(200);
        await expectOAuthError(await refresh(confidential, tokens.refresh_token!), 400, 'invalid_grant');

        expect(await auditEvents({ type: 'refresh_token.reused', userId: sub! })).toEqual([
          expect.objectContaining({ sessionId: sid, details: { clientId: confidential.client_id } }),
        ]);
        expect(await auditEvents({ type: 'session.revoked', userId: sub! })).toEqual([
          expect.objectContaining({ sessionId: sid, details: { reason: 'refresh_token_reused' } }),
        ]);
      });

      it('records session.revoked for the session an app signs out at the end-session endpoint', async () => {
        const session = await newSignedIn('logout');
        const tokens = await exchange(confidential, await authorizedCode(confidential, {}, session.pages));
        const { sid, sub } = decode(tokens.id_token) as JwtPayload & { sid: string };
        const asked = await session.pages.send(
          'GET',
          `/oidc/session/end?${new URLSearchParams({ id_token_hint: tokens.id_token, post_logout_redirect_uri: rp.loggedOut, state: 'bye' })}`,
        );
        expect(asked.status).toBe(200);
        const xsrf = /name="xsrf" value="([^"]+)"/.exec(await asked.text())![1];
        const confirmed = await session.pages.send('POST', '/oidc/session/end/confirm', {
          form: { xsrf, logout: 'yes' },
        });
        expect(confirmed.headers.get('location')).toBe(`${rp.loggedOut}?state=bye`);

        expect(await auditEvents({ type: 'session.revoked', userId: sub! })).toEqual([
          expect.objectContaining({ sessionId: sid, details: { reason: 'logout' } }),
        ]);
      });
    });

    it('never puts a client secret, a code, a refresh or an access token in the audit trail, a log line or an error', async () => {
      const kinds = new Set(secrets.map(({ kind }) => kind));
      expect([...kinds].sort()).toEqual(['access token', 'authorization code', 'client secret', 'refresh token']);
      const trail = await app.request('GET', '/api/v1/admin/audit/export', {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(trail.status).toBe(200);
      expect(trail.text).toContain('"oidc.authorized"');
      const logs = logLines.join('');
      // The log is there to be searched: request lines of the protocol endpoints, errors included.
      expect(logs).toContain('"path":"/oidc/token"');
      expect(logs).toContain('"path":"/oidc/auth"');
      const errors = errorAnswers.join('\n');
      expect(errorAnswers.length).toBeGreaterThan(30);

      const leaked = secrets
        .flatMap(({ kind, value }) => [
          trail.text.includes(value) ? `${kind} in the audit trail` : [],
          logs.includes(value) ? `${kind} in the logs` : [],
          errors.includes(value) ? `${kind} in an error answer` : [],
        ])
        .flat();
      expect(leaked).toEqual([]);
    });
  });
}
