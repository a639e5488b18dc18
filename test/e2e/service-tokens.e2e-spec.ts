import { randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { TokensService } from '../../src/auth/tokens.service';
import { CleanupJob } from '../../src/cleanup/cleanup.job';
import { runCli } from '../support/cli';
import { describeWith } from '../support/services';
import { BACKENDS, HttpResult, startTestApp, TestApp } from '../support/test-app';

/** Service tokens carry a jti, and `token revoke JTI` makes every instance refuse the token at once. */

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const jtiOf = (token: string) => decodeJwt(token).jti as string;

async function mint(app: TestApp, scope: string, ttl = '1h'): Promise<string> {
  const minted = await runCli(app, 'token', '--service', 'reporting', '--scope', scope, '--ttl', ttl);
  expect(minted).toMatchObject({ status: 0, stderr: '' });
  return minted.stdout;
}

const readAudit = (app: TestApp, token: string) =>
  app.request('GET', '/api/v1/admin/audit?limit=1', { headers: bearer(token) });
const introspect = (app: TestApp, introspector: string, token: string) =>
  app.request('POST', '/api/v1/auth/introspect', { json: { token }, headers: bearer(introspector) });

function expectUnauthorized(response: HttpResult): void {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status: 401, code: 'unauthorized' });
  expect(response.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
}

for (const { backend, needs } of BACKENDS) {
  describeWith(needs, `service token revocation on ${backend}`, () => {
    let app: TestApp;
    let introspector: string;

    beforeAll(async () => {
      app = await startTestApp({ backend });
      introspector = await mint(app, 'tokens:introspect');
    });
    afterAll(() => app?.close());

    it('gives every service token its own random jti of 128 bits', async () => {
      const tokens = await Promise.all([mint(app, 'audit:read'), mint(app, 'audit:read')]);
      const [first, second] = tokens.map(jtiOf);
      expect(first).toMatch(/^[0-9a-f]{32}$/);
      expect(first).not.toBe(second);
    });

    it('refuses a revoked token on the API and in introspection at once, and leaves other tokens alone', async () => {
      const token = await mint(app, 'audit:read tokens:introspect');
      const jti = jtiOf(token);
      expect((await readAudit(app, token)).status).toBe(200);
      expect((await introspect(app, introspector, token)).body).toMatchObject({
        active: true,
        sub: 'service:reporting',
      });

      const revoked = await runCli(app, 'token', 'revoke', jti);
      expect(revoked).toMatchObject({ status: 0, stderr: '' });
      expect(revoked.stdout).toMatch(
        new RegExp(
          `^revoked service token ${jti} \\(service:reporting, scope "audit:read tokens:introspect", expires \\S+Z\\)$`,
        ),
      );
      expect(revoked.stdout).not.toContain(token);

      expectUnauthorized(await readAudit(app, token));
      expectUnauthorized(await introspect(app, token, introspector));
      expect((await introspect(app, introspector, token)).body).toEqual({ active: false });
      expect((await introspect(app, introspector, introspector)).body).toMatchObject({ active: true });
    });

    it('revokes a token twice without complaint, saying it already was', async () => {
      const jti = jtiOf(await mint(app, 'users:read'));
      expect((await runCli(app, 'token', 'revoke', jti)).status).toBe(0);
      const again = await runCli(app, 'token', 'revoke', jti);
      expect(again).toMatchObject({ status: 0, stderr: '' });
      expect(again.stdout).toMatch(
        new RegExp(
          `^service token ${jti} \\(service:reporting, scope "users:read", .*\\) was already revoked at \\S+Z$`,
        ),
      );
    });

    it.each([
      ['an unknown jti', () => randomBytes(16).toString('hex'), /^no service token has jti [0-9a-f]{32}: /],
      ['a malformed jti', () => 'not a jti!', /^JTI must be a service token's jti claim/],
      ['a whole token instead of its jti', () => introspector, /^JTI must be a service token's jti claim/],
    ])('refuses to revoke %s with exit 2 and one line saying why', async (_what, jti, reason) => {
      const result = await runCli(app, 'token', 'revoke', jti());
      expect(result.status).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.split('\n')[0]).toMatch(reason);
      expect(result.stderr).not.toContain(introspector);
    });

    it('still accepts a service token minted before tokens had a jti', async () => {
      const legacy = app.app
        .get(TokensService)
        .signAccessToken({ subject: 'service:legacy', scope: 'audit:read' }, 60).token;
      expect(decodeJwt(legacy).jti).toBeUndefined();
      expect((await readAudit(app, legacy)).status).toBe(200);
    });

    it('forgets a token once it has expired, revoked or not', async () => {
      const [revoked, unrevoked] = await Promise.all([mint(app, 'audit:read', '1s'), mint(app, 'audit:read', '1s')]);
      expect((await runCli(app, 'token', 'revoke', jtiOf(revoked))).status).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 2000));

      const cleaned = await app.app.get(CleanupJob).run();
      expect(cleaned?.serviceTokens).toBeGreaterThanOrEqual(2);
      for (const token of [revoked, unrevoked]) expectUnauthorized(await readAudit(app, token));
      const revocations = await Promise.all(
        [revoked, unrevoked].map((token) => runCli(app, 'token', 'revoke', jtiOf(token))),
      );
      expect(revocations.map((result) => result.status)).toEqual([2, 2]);
    });
  });
}

describeWith(['postgres', 'redis'], 'service token revocation across instances of one deployment', () => {
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    first = await startTestApp({ backend: 'postgres-redis' });
    second = await startTestApp({ backend: 'postgres-redis', sameDeploymentAs: first, sink: first.sink });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('is refused by every instance as soon as the command returns', async () => {
    const token = await mint(first, 'audit:read');
    expect((await readAudit(first, token)).status).toBe(200);
    expect((await readAudit(second, token)).status).toBe(200);

    expect((await runCli(first, 'token', 'revoke', jtiOf(token))).status).toBe(0);

    const [onFirst, onSecond] = await Promise.all([readAudit(first, token), readAudit(second, token)]);
    expectUnauthorized(onFirst);
    expectUnauthorized(onSecond);
  });
});
