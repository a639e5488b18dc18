import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AuditChainService } from '../../src/audit/audit-chain.service';
import { AUDIT_EVENT_TYPES } from '../../src/audit/audit-event.entity';
import { CleanupJob } from '../../src/cleanup/cleanup.job';
import { describeWith } from '../support/services';
import { requestCode, signIn, uniqueEmail } from '../support/factories';
import { PageClient } from '../support/page-client';
import { startTestApp, TestApp } from '../support/test-app';

const ADMIN = 'admin@example.com';
const CLI = join(__dirname, '..', '..', 'dist', 'src', 'cli.js');
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function cli(app: TestApp, ...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: mkdtempSync(join(tmpdir(), 'cli-')),
    env: { PATH: process.env.PATH, ...app.env },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr.trim() };
}

function serviceToken(app: TestApp, scope: string): string {
  const minted = cli(app, 'token', '--service', 'tests', '--scope', scope, '--ttl', '10m');
  expect(minted.status).toBe(0);
  return minted.stdout;
}

describeWith(['postgres', 'redis'], 'audit trail and admin API on PostgreSQL + Redis', () => {
  let app: TestApp;
  let admin: { accessToken: string; user: { id: string } };
  let user: { accessToken: string; refreshToken: string; email: string; user: { id: string } };
  const secrets: string[] = [];

  const audit = (query: string, token = admin.accessToken) =>
    app.request('GET', `/api/v1/admin/audit${query}`, { headers: bearer(token) });
  const sql = (text: string, parameters: unknown[] = []) => app.app.get(DataSource).query(text, parameters);
  const seal = () => app.app.get(AuditChainService).sealPending();

  beforeAll(async () => {
    app = await startTestApp({
      backend: 'postgres-redis',
      env: {
        ADMIN_EMAILS: ADMIN,
        JWT_REFRESH_GRACE_SECONDS: '0',
        OTP_MAX_ATTEMPTS: '2',
        OTP_RESEND_COOLDOWN_SECONDS: '30',
        OTP_TTL_SECONDS: '1',
        WEBHOOK_ALLOW_PRIVATE: 'true',
      },
    });
    admin = await signIn(app, ADMIN);
    user = await signIn(app);
    secrets.push(admin.accessToken, user.accessToken, user.refreshToken);
  });
  afterAll(() => app?.close());

  it('records every event type after the action that causes it, with who and where, and no secret', async () => {
    const email = uniqueEmail('events');
    const first = await requestCode(app, email);
    secrets.push(first.code);
    await app.request('POST', '/api/v1/auth/otp', { json: { email } }); // cooldown: rate_limit.hit
    const wrong = first.code === '000000' ? '000001' : '000000';
    await app.request('POST', '/api/v1/auth/otp/verify', { json: { sessionId: first.sessionId, code: wrong } });
    await app.request('POST', '/api/v1/auth/otp/verify', { json: { sessionId: first.sessionId, code: wrong } }); // otp.locked

    app.sink.mode = 'reject';
    await app.request('POST', '/api/v1/auth/otp', { json: { email: uniqueEmail('refused') } });
    app.sink.mode = 'accept';

    const session = await signIn(app);
    const refreshed = await app.request('POST', '/api/v1/auth/refresh', {
      json: { refreshToken: session.refreshToken },
    });
    secrets.push(session.refreshToken, refreshed.body.refreshToken, refreshed.body.accessToken);
    await app.request('POST', '/api/v1/auth/refresh', { json: { refreshToken: session.refreshToken } }); // reuse

    const registered = await app.request('POST', '/api/v1/admin/clients', {
      json: { name: 'Audited app', redirect_uris: ['https://app.example.com/cb'] },
      headers: bearer(admin.accessToken),
    });
    expect(registered.status).toBe(201);
    secrets.push(registered.body.client_secret);
    const removed = await app.request('DELETE', `/api/v1/admin/clients/${registered.body.client_id}`, {
      headers: bearer(admin.accessToken),
    });
    expect(removed.status).toBe(204);

    // oidc.authorized: an app's authorization, answered at once for a browser signed in at the pages.
    const notes = await app.request('POST', '/api/v1/admin/clients', {
      json: { name: 'Notes', redirect_uris: ['http://localhost:8765/callback'] },
      headers: bearer(admin.accessToken),
    });
    expect(notes.status).toBe(201);
    secrets.push(notes.body.client_secret);
    const browser = new PageClient(app);
    await browser.signIn(uniqueEmail('oidc'));
    const verifier = randomBytes(32).toString('base64url');
    const authorization = new URLSearchParams({
      client_id: notes.body.client_id,
      redirect_uri: 'http://localhost:8765/callback',
      response_type: 'code',
      scope: 'openid',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    const { location } = await browser.follow(`/oidc/auth?${authorization}`);
    const code = new URL(location!).searchParams.get('code');
    expect(code).toEqual(expect.any(String));
    secrets.push(code!);

    const moving = await signIn(app);
    const newEmail = uniqueEmail('moved');
    const change = await app.request('POST', '/api/v1/users/me/email', {
      json: { newEmail },
      headers: bearer(moving.accessToken),
    });
    const changeCode = await app.sink.codeFor(newEmail);
    secrets.push(changeCode);
    const moved = await app.request('POST', '/api/v1/users/me/email/verify', {
      json: { changeId: change.body.changeId, code: changeCode },
      headers: bearer(moving.accessToken),
    });
    expect(moved.status).toBe(200);

    const leaving = await signIn(app);
    expect((await app.request('DELETE', '/api/v1/users/me', { headers: bearer(leaving.accessToken) })).status).toBe(
      204,
    );

    const hook = await app.request('POST', '/api/v1/admin/webhooks', {
      json: { url: 'http://127.0.0.1:9/hooks', events: ['user.created'] },
      headers: bearer(admin.accessToken),
    });
    expect(hook.status).toBe(201);
    secrets.push(hook.body.secret);
    expect(
      (await app.request('DELETE', `/api/v1/admin/webhooks/${hook.body.id}`, { headers: bearer(admin.accessToken) }))
        .status,
    ).toBe(204);

    await new Promise((resolve) => setTimeout(resolve, 1100)); // the codes above expire
    const cleaned = await app.app.get(CleanupJob).run();
    expect(cleaned?.otpTokens).toBeGreaterThan(0);
    await audit('?limit=1');

    for (const type of AUDIT_EVENT_TYPES) {
      const response = await audit(`?type=${type}&limit=500`);
      expect(response.status).toBe(200);
      expect({ type, found: response.body.items.length > 0 }).toEqual({ type, found: true });
      for (const event of response.body.items) {
        expect(Object.keys(event).sort()).toEqual([
          'at',
          'details',
          'email',
          'id',
          'ip',
          'requestId',
          'sessionId',
          'type',
          'userAgent',
          'userId',
        ]);
        expect(event.type).toBe(type);
        expect(new Date(event.at).toISOString()).toBe(event.at);
        if (type !== 'otp.cleanup') expect(event).toMatchObject({ ip: '127.0.0.1', requestId: expect.any(String) });
      }
    }
    const verified = (await audit(`?type=session.created&userId=${session.user.id}`)).body.items[0];
    expect(verified).toMatchObject({
      userId: session.user.id,
      email: session.email,
      sessionId: expect.any(String),
      details: { method: 'otp' },
    });

    const everything = await app.request('GET', '/api/v1/admin/audit/export', { headers: bearer(admin.accessToken) });
    for (const secret of secrets) expect(everything.text).not.toContain(secret);
  });

  it.each([
    ['no token', 401, () => undefined],
    ['a user', 403, () => user.accessToken],
    ['an admin', 200, () => admin.accessToken],
    ['a service with audit:read', 200, () => serviceToken(app, 'audit:read')],
    ['a service with users:read only', 403, () => serviceToken(app, 'users:read')],
  ])('answers the audit to %s with %i', async (_who, status, token) => {
    const value = token();
    const response = await app.request('GET', '/api/v1/admin/audit', { headers: value ? bearer(value) : {} });
    expect(response.status).toBe(status);
    if (status === 401) expect(response.headers.get('www-authenticate')).toBe('Bearer');
    if (status === 403) expect(response.body.code).toBe('forbidden');
  });

  it.each([
    ['a user', 403, () => user.accessToken],
    ['an admin', 200, () => admin.accessToken],
    ['a service with users:read', 200, () => serviceToken(app, 'users:read')],
    ['a service with audit:read only', 403, () => serviceToken(app, 'audit:read')],
  ])('answers the user list to %s with %i', async (_who, status, token) => {
    expect((await app.request('GET', '/api/v1/admin/users', { headers: bearer(token()) })).status).toBe(status);
  });

  it('records each read of the trail', async () => {
    const service = serviceToken(app, 'audit:read');
    await audit('?type=otp.sent&limit=3', service);
    const reads = (await audit('?type=admin.audit_read&limit=5')).body.items;
    expect(
      reads.some(
        (event: { details: Record<string, unknown> }) =>
          event.details.reader === 'service:tests' && event.details.type === 'otp.sent',
      ),
    ).toBe(true);
  });

  it('pages newest first over every event exactly once while new events arrive', async () => {
    const email = uniqueEmail('paging');
    await sql(
      `INSERT INTO audit_events (at, type, email, details) SELECT now(), 'otp.requested', $1, '{}' FROM generate_series(1, 23)`,
      [email],
    );
    const before: string[] = (await audit(`?email=${email}&limit=500`)).body.items.map(
      (event: { id: string }) => event.id,
    );
    expect(before).toHaveLength(23);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: { id: string }[]; nextCursor: string | null } } = await audit(
        `?email=${email}&limit=5${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((event) => event.id));
      await sql(`INSERT INTO audit_events (at, type, email, details) VALUES (now(), 'otp.requested', $1, '{}')`, [
        email,
      ]);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(before);
    expect([...seen].sort((a, b) => Number(b) - Number(a))).toEqual(seen);
  });

  it.each([
    '?limit=0',
    '?limit=501',
    '?limit=ten',
    '?since=yesterday',
    '?until=2026-13-01T00:00:00Z',
    '?type=otp.unknown',
    '?userId=42',
    '?email=not-an-address',
    '?cursor=garbage',
    '?sort=asc',
  ])('refuses the malformed query %s with 400', async (query) => {
    const response = await audit(query);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('validation_failed');
  });

  it('filters by time', async () => {
    const now = Date.now();
    const inWindow = await audit(
      `?since=${new Date(now - 3_600_000).toISOString()}&until=${new Date(now + 60_000).toISOString()}&limit=5`,
    );
    expect(inWindow.body.items.length).toBeGreaterThan(0);
    const none = await audit(`?until=2000-01-01T00:00:00Z`);
    expect(none.body.items).toEqual([]);
  });

  it('exports NDJSON for SIEM tools', async () => {
    const response = await app.request('GET', '/api/v1/admin/audit/export?type=otp.sent', {
      headers: bearer(admin.accessToken),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = response.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.every((event) => event.type === 'otp.sent')).toBe(true);
    expect(lines.map((event) => Number(event.id))).toEqual(
      [...lines.map((event) => Number(event.id))].sort((a, b) => a - b),
    );
  });

  it('lists users by address prefix, in pages', async () => {
    const prefix = `pager-${Date.now()}`;
    for (let i = 0; i < 3; i++) await signIn(app, `${prefix}-${i}@example.com`);
    const first = await app.request('GET', `/api/v1/admin/users?email=${prefix.toUpperCase()}&limit=2`, {
      headers: bearer(admin.accessToken),
    });
    expect(first.body.items).toHaveLength(2);
    const second = await app.request(
      'GET',
      `/api/v1/admin/users?email=${prefix}&limit=2&cursor=${first.body.nextCursor}`,
      { headers: bearer(admin.accessToken) },
    );
    expect(second.body.items).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    const emails = [...first.body.items, ...second.body.items].map((listed: { email: string }) => listed.email).sort();
    expect(emails).toEqual([0, 1, 2].map((i) => `${prefix}-${i}@example.com`));
  });

  it('lets an admin end every session of a user', async () => {
    const victim = await signIn(app);
    expect(
      (
        await app.request('POST', `/api/v1/admin/users/${victim.user.id}/revoke-sessions`, {
          headers: bearer(user.accessToken),
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await app.request('POST', `/api/v1/admin/users/${victim.user.id}/revoke-sessions`, {
          headers: bearer(admin.accessToken),
        })
      ).status,
    ).toBe(204);
    expect((await app.request('GET', '/api/v1/users/me', { headers: bearer(victim.accessToken) })).status).toBe(401);
    expect(
      (await app.request('POST', '/api/v1/auth/refresh', { json: { refreshToken: victim.refreshToken } })).status,
    ).toBe(401);
    expect(
      (
        await app.request('POST', '/api/v1/admin/users/00000000-0000-4000-8000-000000000000/revoke-sessions', {
          headers: bearer(admin.accessToken),
        })
      ).status,
    ).toBe(404);
  });

  it('has no route that changes or deletes events', async () => {
    const [latest] = (await audit('?limit=1')).body.items;
    for (const method of ['DELETE', 'PATCH', 'PUT', 'POST']) {
      const response = await app.request(method, `/api/v1/admin/audit/${latest.id}`, {
        headers: bearer(admin.accessToken),
        json: {},
      });
      expect([404, 405]).toContain(response.status);
    }
    expect([404, 405]).toContain(
      (await app.request('DELETE', '/api/v1/admin/audit', { headers: bearer(admin.accessToken) })).status,
    );
  });

  describe('tamper evidence (npm run cli -- audit verify)', () => {
    it('verifies an untouched trail', async () => {
      await seal();
      const result = cli(app, 'audit', 'verify');
      expect(result.stdout).toMatch(/^audit chain intact: \d+ events verified/);
      expect(result.status).toBe(0);
    });
  });
});
