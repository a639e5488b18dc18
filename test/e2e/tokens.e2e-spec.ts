import { createPublicKey, JsonWebKey } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import {
  calculateJwkThumbprint,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importPKCS8,
  JWK,
  JWTPayload,
  jwtVerify,
  KeyLike,
  SignJWT,
} from 'jose';
import { DataSource } from 'typeorm';
import { runCli } from '../support/cli';
import { describeWith } from '../support/services';
import { signIn, uniqueEmail } from '../support/factories';
import {
  Backend,
  BACKENDS,
  HttpResult,
  newSigningKeyPem,
  startTestApp,
  TestApp,
  TestAppOptions,
} from '../support/test-app';

/**
 * Issue 4: access tokens an internal service can verify on its own, refresh rotation with reuse
 * detection, logout and session management that take effect at once, key rotation, service
 * tokens from the operator's command line, and introspection.
 */

const ISSUER = 'http://login.test';
const ME = '/api/v1/users/me';
const SIGNED_IN_KEYS = ['accessToken', 'expiresIn', 'refreshToken', 'tokenType', 'user'];
const USER_KEYS = ['createdAt', 'email', 'id', 'lastLoginAt', 'name'];
const SESSION_KEYS = ['createdAt', 'current', 'id', 'ip', 'lastUsedAt', 'userAgent'];
/** Lets every test sign the same address in as often as it likes. */
const RELAXED_OTP = { OTP_RESEND_COOLDOWN_SECONDS: '0', OTP_MAX_PER_HOUR: '1000' };

type SignedIn = Awaited<ReturnType<typeof signIn>>;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const epoch = () => Math.floor(Date.now() / 1000);
const segment = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sidOf = (accessToken: string) => decodeJwt(accessToken).sid as string;

const me = (app: TestApp, token: string) => app.request('GET', ME, { headers: bearer(token) });
const refresh = (app: TestApp, refreshToken: string) =>
  app.request('POST', '/api/v1/auth/refresh', { json: { refreshToken } });
const logout = (app: TestApp, token?: string) =>
  app.request('POST', '/api/v1/auth/logout', { headers: token ? bearer(token) : {} });

/** An RFC 9457 problem with this status and one of these codes; a 401 also challenges for a bearer token. */
function expectProblem(response: HttpResult, status: number, ...codes: string[]): void {
  const code = codes.length === 1 ? codes[0] : expect.stringMatching(new RegExp(`^(${codes.join('|')})$`));
  expect({ status: response.status, code: response.body?.code }).toEqual({ status, code });
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  if (status === 401) expect(response.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
}

/** A key that signs tokens, and the kid it is known by. */
interface Signer {
  key: KeyLike | Uint8Array;
  kid: string;
  publicJwk: JWK;
}

function publicJwkOf(pem: string): JWK {
  return createPublicKey(pem).export({ format: 'jwk' }) as JWK;
}

async function kidOf(pem: string): Promise<string> {
  return calculateJwkThumbprint(publicJwkOf(pem));
}

/** The service's own (first) signing key, read as an insider would from its configuration. */
async function serviceSigner(app: TestApp): Promise<Signer> {
  const pem = app.env.JWT_PRIVATE_KEY;
  return { key: await importPKCS8(pem, 'ES256'), kid: await kidOf(pem), publicJwk: publicJwkOf(pem) };
}

/** The classic algorithm confusion: the public key, as anyone can fetch it, used as an HMAC secret under our kid. */
function hmacSigner(signer: Signer, publicText: string): Signer {
  return { ...signer, key: new TextEncoder().encode(publicText) };
}

function publicPemOf(jwk: JWK): string {
  return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
}

async function attackerSigner(): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const publicJwk = await exportJWK(publicKey);
  return { key: privateKey, kid: await calculateJwkThumbprint(publicJwk), publicJwk };
}

/** A token with our usual header (ES256, at+jwt, the signer's kid) unless `header` says otherwise. */
function forge(signer: Signer, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: signer.kid, ...header })
    .sign(signer.key);
}

/** The claims of a genuine access token of this user, freshly dated. */
function claimsOf(user: SignedIn): JWTPayload {
  const { sub, sid, email, roles } = decodeJwt(user.accessToken);
  const iat = epoch();
  return { iss: ISSUER, aud: ISSUER, sub, sid, email, roles, iat, exp: iat + 600 };
}

/** Serves a JWKS and anything else asked of it, and remembers every request: it must get none. */
async function startAttackerServer(): Promise<{
  url: string;
  hits: string[];
  serve(jwks: object): void;
  close(): Promise<void>;
}> {
  const hits: string[] = [];
  let body = '{"keys":[]}';
  const server: Server = createServer((request, response) => {
    hits.push(request.url ?? '');
    response.setHeader('content-type', 'application/json');
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    serve: (jwks) => (body = JSON.stringify(jwks)),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A further instance for the length of one case. */
async function withInstance(options: TestAppOptions, use: (instance: TestApp) => Promise<void>): Promise<void> {
  const instance = await startTestApp(options);
  try {
    await use(instance);
  } finally {
    await instance.close();
  }
}

async function serviceToken(app: TestApp, scope: string): Promise<string> {
  const minted = await runCli(app, 'token', '--service', 'reporting', '--scope', scope, '--ttl', '1h');
  expect(minted).toMatchObject({ status: 0, stderr: '' });
  return minted.stdout;
}

async function auditTypesOf(app: TestApp, sessionId: string): Promise<string[]> {
  const rows = await app.app
    .get(DataSource)
    .createQueryBuilder()
    .select('event.type', 'type')
    .from('audit_events', 'event')
    .where('event.session_id = :sessionId', { sessionId })
    .orderBy('event.id')
    .getRawMany<{ type: string }>();
  return rows.map((row) => row.type);
}

interface ForgeContext {
  victim: SignedIn;
  /** Another user: whom a tampered token claims to be. */
  other: SignedIn;
  service: Signer;
  attacker: Signer;
  attackerUrl: string;
}

/** Every way of presenting a token that is not a genuine, current access token of ours. */
const FORGERIES: [string, (context: ForgeContext) => Promise<string> | string][] = [
  [
    'alg none',
    ({ victim, service }) =>
      `${segment({ alg: 'none', typ: 'at+jwt', kid: service.kid })}.${segment(claimsOf(victim))}.`,
  ],
  [
    'HS256 keyed with the service public key (PEM)',
    ({ victim, service }) =>
      forge(hmacSigner(service, publicPemOf(service.publicJwk)), claimsOf(victim), { alg: 'HS256' }),
  ],
  [
    'HS256 keyed with the service public key (JWK as published)',
    ({ victim, service }) =>
      forge(
        hmacSigner(service, JSON.stringify({ ...service.publicJwk, kid: service.kid, alg: 'ES256', use: 'sig' })),
        claimsOf(victim),
        { alg: 'HS256' },
      ),
  ],
  [
    'a tampered payload (genuine signature, another sub)',
    ({ victim, other }) => {
      const [header, , signature] = victim.accessToken.split('.');
      return `${header}.${segment({ ...decodeJwt(victim.accessToken), sub: other.user.id })}.${signature}`;
    },
  ],
  ['an unknown kid (a fresh key)', ({ victim, attacker }) => forge(attacker, claimsOf(victim))],
  [
    'a fresh key under our kid',
    ({ victim, attacker, service }) => forge(attacker, claimsOf(victim), { kid: service.kid }),
  ],
  [
    'the wrong audience (our key)',
    ({ victim, service }) => forge(service, { ...claimsOf(victim), aud: 'http://elsewhere.test' }),
  ],
  [
    'the wrong issuer (our key)',
    ({ victim, service }) => forge(service, { ...claimsOf(victim), iss: 'http://elsewhere.test' }),
  ],
  [
    'an expired exp (our key)',
    ({ victim, service }) => forge(service, { ...claimsOf(victim), iat: epoch() - 3600, exp: epoch() - 60 }),
  ],
  ['a future nbf (our key)', ({ victim, service }) => forge(service, { ...claimsOf(victim), nbf: epoch() + 600 })],
  ['typ JWT instead of at+jwt (our key)', ({ victim, service }) => forge(service, claimsOf(victim), { typ: 'JWT' })],
  [
    'an embedded jwk header with the attacker key',
    ({ victim, attacker, service }) => forge(attacker, claimsOf(victim), { kid: service.kid, jwk: attacker.publicJwk }),
  ],
  [
    'a jku header to the attacker JWKS',
    ({ victim, attacker, service, attackerUrl }) =>
      forge(attacker, claimsOf(victim), { kid: service.kid, jku: `${attackerUrl}/jwks.json` }),
  ],
  [
    'an x5u header to the attacker',
    ({ victim, attacker, service, attackerUrl }) =>
      forge(attacker, claimsOf(victim), { kid: service.kid, x5u: `${attackerUrl}/cert.pem` }),
  ],
  ['the refresh token as a bearer token', ({ victim }) => victim.refreshToken],
];

for (const { backend, needs } of BACKENDS) {
  describeWith(needs, `tokens and sessions on ${backend}`, () => {
    let app: TestApp;

    beforeAll(async () => {
      app = await startTestApp({ backend, env: RELAXED_OTP });
    });
    afterAll(() => app?.close());

    it('issues access tokens an internal service verifies with the published JWKS alone', async () => {
      const user = await signIn(app);
      const jwks = await app.request('GET', '/.well-known/jwks.json');
      expect(jwks.status).toBe(200);
      expect(jwks.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
      expect(jwks.body.keys.length).toBeGreaterThan(0);
      for (const key of jwks.body.keys) {
        expect(key).toMatchObject({ kty: 'EC', kid: expect.any(String), alg: 'ES256', use: 'sig' });
        expect(key).not.toHaveProperty('d');
      }

      const { payload, protectedHeader } = await jwtVerify(
        user.accessToken,
        createRemoteJWKSet(new URL(`${app.url}/.well-known/jwks.json`)),
        {
          issuer: ISSUER,
          audience: ISSUER,
          algorithms: ['ES256'],
          typ: 'at+jwt',
        },
      );
      expect(jwks.body.keys.map((key: JWK) => key.kid)).toContain(protectedHeader.kid);
      expect(protectedHeader.kid).toBe(await kidOf(app.env.JWT_PRIVATE_KEY));
      expect(payload).toMatchObject({
        sub: user.user.id,
        sid: expect.any(String),
        email: user.email,
        roles: ['user'],
        iat: expect.any(Number),
        exp: expect.any(Number),
      });
      expect(payload.exp! - payload.iat!).toBe(900);
    });

    describe('forged and misused access tokens', () => {
      const context = {} as ForgeContext;
      let attackerServer: Awaited<ReturnType<typeof startAttackerServer>>;

      beforeAll(async () => {
        attackerServer = await startAttackerServer();
        const service = await serviceSigner(app);
        const attacker = await attackerSigner();
        // What a verifier that followed jku would find: the attacker's key, under our kid.
        attackerServer.serve({ keys: [{ ...attacker.publicJwk, kid: service.kid, alg: 'ES256', use: 'sig' }] });
        Object.assign(context, {
          victim: await signIn(app),
          other: await signIn(app),
          service,
          attacker,
          attackerUrl: attackerServer.url,
        });
      });
      afterAll(() => attackerServer?.close());

      it('accepts a token minted with the service key and genuine claims (the forgeries below differ in one thing each)', async () => {
        const response = await me(app, await forge(context.service, claimsOf(context.victim)));
        expect(response.status).toBe(200);
        expect(response.body.id).toBe(context.victim.user.id);
      });

      it.each(FORGERIES)('rejects %s with 401 unauthorized', async (_title, make) => {
        const response = await me(app, await make(context));
        expectProblem(response, 401, 'unauthorized');
        expect(response.text).not.toContain(context.victim.email);
        expect(attackerServer.hits).toEqual([]);
      });

      it('rejects a request without a bearer token', async () => {
        expectProblem(await app.request('GET', ME), 401, 'unauthorized');
      });
    });

    describe('refresh', () => {
      it('rotates the refresh token and answers like a sign-in', async () => {
        const user = await signIn(app);
        const response = await refresh(app, user.refreshToken);
        expect(response.status).toBe(200);
        expect(response.headers.get('cache-control')).toBe('no-store');
        expect(Object.keys(response.body).sort()).toEqual(SIGNED_IN_KEYS);
        expect(Object.keys(response.body.user).sort()).toEqual(USER_KEYS);
        expect(response.body).toMatchObject({
          tokenType: 'Bearer',
          expiresIn: 900,
          user: { id: user.user.id, email: user.email },
        });
        expect(response.body.refreshToken).toEqual(expect.any(String));
        expect(response.body.refreshToken).not.toBe(user.refreshToken);
        expect(sidOf(response.body.accessToken)).toBe(sidOf(user.accessToken));

        const profile = await me(app, response.body.accessToken);
        expect(profile.status).toBe(200);
        expect(profile.body.id).toBe(user.user.id);
      });

      it('gives five concurrent refreshes of one token the same next token, and the session goes on', async () => {
        const user = await signIn(app);
        const responses = await Promise.all(Array.from({ length: 5 }, () => refresh(app, user.refreshToken)));
        expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
        const next = new Set(responses.map((response) => response.body.refreshToken));
        expect(next.size).toBe(1);
        const [token] = next;
        expect(token).not.toBe(user.refreshToken);

        const after = await refresh(app, token);
        expect(after.status).toBe(200);
        expect((await me(app, after.body.accessToken)).status).toBe(200);
      });

      it('rejects a refresh token that was never issued', async () => {
        const user = await signIn(app);
        const [sessionId] = user.refreshToken.split('.');
        expectProblem(await refresh(app, `${sessionId}.${'A'.repeat(43)}`), 401, 'unauthorized');
        expect((await refresh(app, user.refreshToken)).status).toBe(200);
      });
    });

    describe('logout', () => {
      it('ends the session: its access token and its refresh token stop working at once', async () => {
        const user = await signIn(app);
        expect((await me(app, user.accessToken)).status).toBe(200);
        const response = await logout(app, user.accessToken);
        expect(response.status).toBe(204);
        expect(response.text).toBe('');
        expectProblem(await me(app, user.accessToken), 401, 'unauthorized');
        expectProblem(await refresh(app, user.refreshToken), 401, 'unauthorized');
        expectProblem(await logout(app, user.accessToken), 401, 'unauthorized');
      });

      it('needs a bearer token', async () => {
        expectProblem(await logout(app), 401, 'unauthorized');
      });
    });

    describe('session list', () => {
      it('lists the user’s live sessions and marks the current one', async () => {
        const first = await signIn(app);
        const second = await signIn(app, first.email);
        expect(second.user.id).toBe(first.user.id);

        const response = await app.request('GET', '/api/v1/auth/sessions', { headers: bearer(second.accessToken) });
        expect(response.status).toBe(200);
        expect(response.headers.get('cache-control')).toBe('no-store');
        const items: { id: string; current: boolean }[] = response.body.items;
        expect(items.map((item) => item.id).sort()).toEqual(
          [sidOf(first.accessToken), sidOf(second.accessToken)].sort(),
        );
        for (const item of response.body.items) {
          expect(Object.keys(item).sort()).toEqual(SESSION_KEYS);
          expect(item).toMatchObject({ ip: '127.0.0.1', current: expect.any(Boolean) });
          for (const at of [item.createdAt, item.lastUsedAt]) expect(new Date(at).toISOString()).toBe(at);
          expect(Date.parse(item.lastUsedAt)).toBeGreaterThanOrEqual(Date.parse(item.createdAt));
        }
        expect(items.filter((item) => item.current).map((item) => item.id)).toEqual([sidOf(second.accessToken)]);
      });

      it('revokes one of the user’s own sessions, and nobody else’s', async () => {
        const first = await signIn(app);
        const second = await signIn(app, first.email);
        const stranger = await signIn(app);
        const revoke = (id: string) =>
          app.request('DELETE', `/api/v1/auth/sessions/${encodeURIComponent(id)}`, {
            headers: bearer(second.accessToken),
          });

        const revoked = await revoke(sidOf(first.accessToken));
        expect(revoked.status).toBe(204);
        expectProblem(await me(app, first.accessToken), 401, 'unauthorized');
        expectProblem(await refresh(app, first.refreshToken), 401, 'unauthorized');
        const list = await app.request('GET', '/api/v1/auth/sessions', { headers: bearer(second.accessToken) });
        expect(list.body.items).toEqual([expect.objectContaining({ id: sidOf(second.accessToken), current: true })]);

        expectProblem(await revoke(sidOf(stranger.accessToken)), 404, 'not_found');
        expect((await me(app, stranger.accessToken)).status).toBe(200);
        expectProblem(await revoke('not-a-session'), 404, 'not_found');
        expectProblem(await revoke('00000000-0000-4000-8000-000000000000'), 404, 'not_found');
        expectProblem(await revoke(sidOf(first.accessToken)), 404, 'not_found');
        expect((await me(app, second.accessToken)).status).toBe(200);
      });
    });

    describe('service tokens and introspection', () => {
      let introspector: string;
      let auditor: string;
      const introspect = (json: unknown, token: string | null = introspector) =>
        app.request('POST', '/api/v1/auth/introspect', { json, headers: token ? bearer(token) : {} });

      beforeAll(async () => {
        [introspector, auditor] = await Promise.all([
          serviceToken(app, 'tokens:introspect'),
          serviceToken(app, 'audit:read'),
        ]);
      });

      it('mints service tokens from the command line that verify like any other token', async () => {
        const jwks = createRemoteJWKSet(new URL(`${app.url}/.well-known/jwks.json`));
        const { payload } = await jwtVerify(auditor, jwks, {
          issuer: ISSUER,
          audience: ISSUER,
          algorithms: ['ES256'],
          typ: 'at+jwt',
        });
        expect(payload).toMatchObject({ sub: 'service:reporting', scope: 'audit:read' });
        expect(payload.sid).toBeUndefined();
        expect(payload.exp! - payload.iat!).toBe(3600);
      });

      it('answers 403 to a service token without the scope, and to a service on a user-only endpoint', async () => {
        expectProblem(await introspect({ token: 'x' }, auditor), 403, 'forbidden');
        expectProblem(await me(app, introspector), 403, 'forbidden');
        expectProblem(
          await app.request('GET', '/api/v1/auth/sessions', { headers: bearer(introspector) }),
          403,
          'forbidden',
        );
      });

      it('refuses a bad --ttl with exit code 2 and the usage on stderr', async () => {
        const result = await runCli(
          app,
          'token',
          '--service',
          'reporting',
          '--scope',
          'audit:read',
          '--ttl',
          'forever',
        );
        expect(result.status).toBe(2);
        expect(result.stdout).toBe('');
        expect(result.stderr).toMatch(/--ttl/);
        expect(result.stderr).toMatch(/^usage:/m);
      });

      it('introspects a user access token, and reports it inactive once the user logs out', async () => {
        const user = await signIn(app);
        const active = await introspect({ token: user.accessToken });
        expect(active.status).toBe(200);
        expect(active.headers.get('cache-control')).toBe('no-store');
        expect(active.body).toMatchObject({
          active: true,
          sub: user.user.id,
          sid: sidOf(user.accessToken),
          exp: decodeJwt(user.accessToken).exp,
        });

        expect((await logout(app, user.accessToken)).status).toBe(204);
        const inactive = await introspect({ token: user.accessToken });
        expect(inactive.status).toBe(200);
        expect(inactive.body).toEqual({ active: false });
        expect((await introspect({ token: user.refreshToken })).body).toEqual({ active: false });
      });

      it('introspects a refresh token while it is the current one', async () => {
        const user = await signIn(app);
        const active = await introspect({ token: user.refreshToken });
        expect(active.status).toBe(200);
        expect(active.body).toMatchObject({
          active: true,
          token_type: 'refresh_token',
          sub: user.user.id,
          sid: sidOf(user.accessToken),
          exp: expect.any(Number),
        });
        expect((await refresh(app, user.refreshToken)).status).toBe(200);
        expect((await introspect({ token: user.refreshToken })).body).toEqual({ active: false });
      });

      it('answers active false for garbage, 401 without a bearer and 400 for an unknown field', async () => {
        const garbage = await introspect({ token: 'not.a.token' });
        expect(garbage.status).toBe(200);
        expect(garbage.body).toEqual({ active: false });
        expectProblem(await introspect({ token: 'x' }, null), 401, 'unauthorized');
        expectProblem(await introspect({ token: 'x', extra: true }), 400, 'validation_failed');
      });
    });

    /**
     * Last, and each case closes its extra instance before it ends: an instance started in this
     * process takes over the authentication of every other one (see the last case).
     */
    describe('with another instance of the deployment', () => {
      const sibling = (env: Record<string, string> = {}) => ({ backend, sameDeploymentAs: app, sink: app.sink, env });

      it('answers refresh_token_reused to a rotated token presented again after the grace, and ends the whole session at once', () =>
        withInstance(sibling({ JWT_REFRESH_GRACE_SECONDS: '0' }), async (strict) => {
          const user = await signIn(strict);
          const sid = sidOf(user.accessToken);
          const first = await refresh(strict, user.refreshToken);
          expect(first.status).toBe(200);
          const { refreshToken: t1, accessToken: a1 } = first.body;
          expect((await me(strict, a1)).status).toBe(200);
          await sleep(20); // A grace of 0 still forgives the same millisecond.

          expectProblem(await refresh(strict, user.refreshToken), 401, 'refresh_token_reused');
          expectProblem(await refresh(strict, t1), 401, 'unauthorized', 'refresh_token_reused');
          expectProblem(await me(strict, a1), 401, 'unauthorized');
          expectProblem(await me(strict, user.accessToken), 401, 'unauthorized');

          const types = await auditTypesOf(strict, sid);
          expect(types).toEqual(
            expect.arrayContaining(['session.created', 'session.refreshed', 'refresh_token.reused', 'session.revoked']),
          );
          expect(types.filter((type) => type === 'session.revoked')).toHaveLength(1);
        }));

      if (backend === 'postgres-redis') {
        it('rejects on instance B, at once, a token logged out on instance A', () =>
          withInstance(sibling(), async (other) => {
            const user = await signIn(app);
            expect((await me(other, user.accessToken)).status).toBe(200);
            expect((await logout(app, user.accessToken)).status).toBe(204);
            expectProblem(await me(other, user.accessToken), 401, 'unauthorized');
            expectProblem(await refresh(other, user.refreshToken), 401, 'unauthorized');
          }));
      }

      // Passport keeps one strategy per name for the whole process, the one registered last: were
      // it used as is, the instance started last would check the tokens of all of them, with its
      // keys and its revocation list (on PostgreSQL + Redis a closed Redis connection). The cache
      // of tokens an instance signed hides that; a token it never saw goes through passport.
      it('keeps checking its own tokens and revocations after another instance in the same process has come and gone', async () => {
        let unseen = '';
        await withInstance(sibling(), async (other) => {
          unseen = (await signIn(other)).accessToken;
        });
        expect((await me(app, unseen)).status).toBe(200);
        expect((await logout(app, unseen)).status).toBe(204);
        expectProblem(await me(app, unseen), 401, 'unauthorized');

        const user = await signIn(app);
        expect((await me(app, user.accessToken)).status).toBe(200);
        expect((await logout(app, user.accessToken)).status).toBe(204);
        expectProblem(await me(app, user.accessToken), 401, 'unauthorized');
      });
    });
  });
}

describeWith([], 'signing key rotation on sqlite-memory', () => {
  const backend: Backend = 'sqlite-memory';
  const oldPem = newSigningKeyPem();
  const newPem = newSigningKeyPem();
  const instances: TestApp[] = [];
  const jwksKids = async (app: TestApp) =>
    (await app.request('GET', '/.well-known/jwks.json')).body.keys.map((key: JWK) => key.kid);

  /** Instances come up one after the other, as in a rolling deployment, all on the first one's database. */
  const deploy = async (pem: string) => {
    const [first] = instances;
    const options = first ? { backend, sameDeploymentAs: first, sink: first.sink } : { backend };
    const instance = await startTestApp({ ...options, env: { ...RELAXED_OTP, JWT_PRIVATE_KEY: pem } });
    instances.push(instance);
    return instance;
  };

  afterAll(async () => {
    for (const instance of instances.reverse()) await instance.close();
  });

  it('keeps old tokens valid while the old key is listed, signs with the new one, and drops the old once it is gone', async () => {
    const [oldKid, newKid] = await Promise.all([kidOf(oldPem), kidOf(newPem)]);
    const before = await deploy(oldPem);
    const old = await signIn(before);
    expect(decodeProtectedHeader(old.accessToken).kid).toBe(oldKid);
    expect(await jwksKids(before)).toEqual([oldKid]);

    const during = await deploy(`${newPem}\n${oldPem}`);
    expect((await me(during, old.accessToken)).status).toBe(200);
    expect((await jwksKids(during)).sort()).toEqual([oldKid, newKid].sort());
    const fresh = await signIn(during, uniqueEmail('rotated'));
    expect(decodeProtectedHeader(fresh.accessToken).kid).toBe(newKid);
    await jwtVerify(fresh.accessToken, createRemoteJWKSet(new URL(`${during.url}/.well-known/jwks.json`)), {
      issuer: ISSUER,
      audience: ISSUER,
      algorithms: ['ES256'],
      typ: 'at+jwt',
    });
    expect((await me(during, fresh.accessToken)).status).toBe(200);

    const after = await deploy(newPem);
    expect(await jwksKids(after)).toEqual([newKid]);
    expect((await me(after, fresh.accessToken)).status).toBe(200);
    expectProblem(await me(after, old.accessToken), 401, 'unauthorized');
  });
});
