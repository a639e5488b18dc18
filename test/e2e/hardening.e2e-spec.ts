import { connect } from 'node:net';
import { DataSource } from 'typeorm';
import { encodeCursor } from '../../src/common/query';
import { describeWith } from '../support/services';
import { signIn, uniqueEmail } from '../support/factories';
import { PageClient } from '../support/page-client';
import { BACKENDS, startTestApp, TestApp } from '../support/test-app';

/**
 * Sends bytes as they are, for requests no HTTP client would produce. Unless `waitForAnswer`,
 * the client closes its side at once, which makes the server drop a request it is still handling.
 */
async function rawHttp(app: TestApp, request: string, { waitForAnswer = false } = {}): Promise<string> {
  const { port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('end', () => resolve(received));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    // latin1: one byte per character, so a test can send any byte (C1 controls in a header).
    if (waitForAnswer) socket.write(Buffer.from(request, 'latin1'));
    else socket.end(Buffer.from(request, 'latin1'));
  });
}

function statusOf(rawResponse: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(rawResponse)?.[1]);
}

describe('HTTP hardening', () => {
  let app: TestApp;
  let accessToken: string;

  beforeAll(async () => {
    app = await startTestApp({ backend: 'sqlite-memory' });
    ({ accessToken } = await signIn(app));
  });
  afterAll(() => app?.close());

  const ROUTES: [string, string][] = [
    ['GET', '/.well-known/jwks.json'],
    ['GET', '/health/live'],
    ['GET', '/health/ready'],
    ['GET', '/dev/outbox'],
    ['GET', '/api/v1/users/me'],
    ['POST', '/api/v1/auth/otp'],
    ['POST', '/api/v1/auth/otp/resend'],
    ['POST', '/api/v1/auth/otp/verify'],
    ['PATCH', '/api/v1/users/me'],
  ];
  const HOSTILE_QUERIES = [
    '?email=%27%20OR%201%3D1--',
    '?x=%00',
    '?a[b][c]=1',
    `?long=${'x'.repeat(4000)}`,
    '?%E2%80%AE=rtl',
    '?__proto__[admin]=1',
  ];

  it.each(ROUTES.flatMap(([method, path]) => HOSTILE_QUERIES.map((query) => [method, path, query] as const)))(
    '%s %s%s never answers 5xx',
    async (method, path, query) => {
      const response = await app.request(method, path + query, {
        json: method === 'GET' ? undefined : {},
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(response.status).toBeLessThan(500);
      if (response.status >= 400) expect(response.headers.get('content-type')).toContain('application/problem+json');
    },
  );

  it.each([
    ['an invalid percent-encoding', '/api/v1/%zz'],
    ['a NUL byte', '/api/v1/users/me%00'],
    ['a path traversal', '/api/v1/../../etc/passwd'],
    ['an overlong path', `/api/v1/${'a'.repeat(8000)}`],
  ])('answers %s in the path with a 4xx problem document', async (_name, path) => {
    const response = await app.request('GET', path);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it.each([
    [
      'a header larger than the server accepts',
      `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    ],
    [
      'a body shorter than its Content-Length',
      'POST /api/v1/auth/otp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"email":"a@b.c"}',
    ],
    ['a malformed request line', 'GARBAGE\r\n\r\n'],
    [
      'conflicting Content-Length and Transfer-Encoding',
      'POST /api/v1/auth/otp HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    [
      'a bad chunk size',
      'POST /api/v1/auth/otp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    ],
  ])('answers %s without a 5xx', async (_name, request) => {
    const status = statusOf(await rawHttp(app, request));
    if (!Number.isNaN(status)) expect(status).toBeLessThan(500);
    expect((await app.request('GET', '/health/ready')).status).toBe(200);
  });

  it('sends the security headers', async () => {
    const response = await app.request('GET', '/health/live');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const csp = response.headers.get('content-security-policy') ?? '';
    for (const directive of ["frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"])
      expect(csp).toContain(directive);
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });

  it('keeps CORS closed unless origins are configured', async () => {
    const preflight = await app.request('OPTIONS', '/api/v1/auth/otp', {
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('is still healthy after all of that', async () => {
    expect((await app.request('GET', '/health/ready')).status).toBe(200);
  });
});

describe('HTTP hardening in production', () => {
  it('sends HSTS and allows only the configured CORS origins', async () => {
    const app = await startTestApp({
      backend: 'sqlite-memory',
      env: { NODE_ENV: 'production', CORS_ORIGINS: 'https://app.example.com' },
    });
    try {
      const response = await app.request('GET', '/health/live');
      expect(response.headers.get('strict-transport-security')).toContain('max-age=31536000');
      const allowed = await app.request('OPTIONS', '/api/v1/auth/otp', {
        headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
      });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      const refused = await app.request('OPTIONS', '/api/v1/auth/otp', {
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await app.close();
    }
  });

  it('hides internals of an unexpected error', async () => {
    const app = await startTestApp({ backend: 'sqlite-memory', env: { NODE_ENV: 'production' } });
    try {
      const { accessToken } = await signIn(app);
      await app.app.get(DataSource).query('DROP TABLE users');
      const response = await app.request('GET', '/api/v1/users/me', {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(response.status).toBe(500);
      expect(response.body).toMatchObject({ code: 'internal_error', detail: 'Something went wrong on our side.' });
      expect(response.text).not.toMatch(/users|SQLITE|table|at /i);
    } finally {
      await app.close();
    }
  });
});

const ADMIN = 'admin@example.com';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A JSON request with headers no fetch would send as they are; answers status and parsed body. */
async function rawJson(
  app: TestApp,
  path: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; body: any }> {
  const payload = JSON.stringify(body);
  const lines = Object.entries({
    host: 'login.test',
    'content-type': 'application/json',
    'content-length': String(payload.length),
    connection: 'close',
    ...headers,
  });
  const response = await rawHttp(
    app,
    `POST ${path} HTTP/1.1\r\n${lines.map(([name, value]) => `${name}: ${value}`).join('\r\n')}\r\n\r\n${payload}`,
    { waitForAnswer: true },
  );
  const text = response.slice(response.indexOf('\r\n\r\n') + 4);
  return { status: statusOf(response), body: text.startsWith('{') ? JSON.parse(text) : text };
}

for (const { backend, needs } of BACKENDS) {
  describeWith(needs, `client input at the HTTP edge on ${backend}`, () => {
    let app: TestApp;
    let admin: { accessToken: string };
    const sql = (text: string, parameters: unknown[] = []) => app.app.get(DataSource).query(text, parameters);
    const parameter = (n: number) => (backend === 'postgres-redis' ? `$${n}` : '?');

    beforeAll(async () => {
      app = await startTestApp({ backend, env: { TRUST_PROXY: '1', ADMIN_EMAILS: ADMIN } });
      admin = await signIn(app, ADMIN);
    });
    afterAll(() => app?.close());

    describe('client headers that reach the database', () => {
      const JUNK_FORWARDED_FOR = 'not-an-ip-'.repeat(6);
      it.each([
        ['100 tab characters', `agent/1.0${'\t'.repeat(100)}end`, /^agent\/1\.0(\\u0009)+$/],
        [
          '300 C1 control bytes',
          Array.from({ length: 300 }, (_, i) => String.fromCharCode(0x80 + (i % 32))).join(''),
          /^(\\u009[0-9a-f]|\\u008[0-9a-f])+$/,
        ],
      ])(
        'stores a User-Agent of %s escaped, then cut to its column, and the socket address for a junk X-Forwarded-For',
        async (_title, userAgent, stored) => {
          const email = uniqueEmail('agent');
          const headers = { 'user-agent': userAgent, 'x-forwarded-for': JUNK_FORWARDED_FOR };
          const sent = await rawJson(app, '/api/v1/auth/otp', { email }, headers);
          expect(sent.status).toBe(202);
          const code = await app.sink.codeFor(email, 1);
          const verified = await rawJson(
            app,
            '/api/v1/auth/otp/verify',
            { sessionId: sent.body.sessionId, code },
            headers,
          );
          expect(verified.status).toBe(200);

          const trail = await app.request('GET', `/api/v1/admin/audit?email=${encodeURIComponent(email)}`, {
            headers: bearer(admin.accessToken),
          });
          expect(trail.body.items.map((event: { type: string }) => event.type)).toEqual(
            expect.arrayContaining(['otp.requested', 'otp.sent', 'otp.verified', 'session.created']),
          );
          const sessions = await sql(`SELECT ip, user_agent FROM sessions WHERE user_id = ${parameter(1)}`, [
            verified.body.user.id,
          ]);
          for (const row of [
            ...trail.body.items.map((event: { ip: string; userAgent: string }) => ({
              ip: event.ip,
              user_agent: event.userAgent,
            })),
            ...sessions,
          ]) {
            expect(row.ip).toBe('127.0.0.1');
            expect(row.user_agent).toMatch(stored);
            expect(row.user_agent.length).toBeGreaterThan(500);
            expect(row.user_agent.length).toBeLessThanOrEqual(512);
          }
        },
      );

      it('keys the per-IP limit by the same address, so junk X-Forwarded-For values share one budget', async () => {
        const limited = await startTestApp({ backend, env: { TRUST_PROXY: '1', RATE_LIMIT_PER_IP_PER_MINUTE: '2' } });
        try {
          const statuses = [];
          for (const junk of ['junk-1', 'junk-2', 'junk-3']) {
            statuses.push(
              (
                await limited.request('POST', '/api/v1/auth/otp', {
                  json: { email: uniqueEmail('junk') },
                  headers: { 'x-forwarded-for': junk },
                })
              ).status,
            );
          }
          expect(statuses).toEqual([202, 202, 429]);
          const ips: { ip: string }[] = await limited.app.get(DataSource).query('SELECT DISTINCT ip FROM audit_events');
          expect(ips.map((row) => row.ip)).toEqual(['127.0.0.1']);
        } finally {
          await limited.close();
        }
      });
    });

    describe('the /api/ rules follow the route, however its path is spelled', () => {
      it('sends no-store with the tokens of /%61pi/v1/auth/refresh', async () => {
        const { refreshToken } = await signIn(app);
        const response = await app.request('POST', '/%61pi/v1/auth/refresh', { json: { refreshToken } });
        expect(response.status).toBe(200);
        expect(response.body.refreshToken).toEqual(expect.any(String));
        expect(response.headers.get('cache-control')).toBe('no-store');
      });

      it('refuses a form body at /%61pi/v1/auth/otp', async () => {
        const response = await app.request('POST', '/%61pi/v1/auth/otp', {
          body: `email=${encodeURIComponent(uniqueEmail('form'))}`,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        expect(response.status).toBe(415);
        expect(response.body.code).toBe('unsupported_media_type');
      });
    });

    describe('text that is not well-formed Unicode', () => {
      const LONE_SURROGATE_EMAIL = 'ada\ud800@example.com';

      it('refuses a lone surrogate in the email of POST /api/v1/auth/otp', async () => {
        const response = await app.request('POST', '/api/v1/auth/otp', { json: { email: LONE_SURROGATE_EMAIL } });
        expect({ status: response.status, code: response.body.code }).toEqual({
          status: 400,
          code: 'validation_failed',
        });
        expect(response.body.errors).toEqual([expect.objectContaining({ field: 'email' })]);
      });

      it('refuses a lone surrogate in the email of the sign-in form (POST /login)', async () => {
        const page = new PageClient(app);
        const _csrf = await page.csrf();
        const response = await page.send('POST', '/login', { json: { _csrf, email: LONE_SURROGATE_EMAIL } });
        expect(response.status).toBe(400);
        expect(app.sink.messagesTo(LONE_SURROGATE_EMAIL)).toHaveLength(0);
      });
    });

    describe('admin query values out of range', () => {
      const USER_ID = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
      it.each([
        [
          'a users cursor whose id is not a UUID',
          '/api/v1/admin/users?cursor=' + encodeCursor(['2024-01-01T00:00:00.000Z', 'not-a-uuid']),
        ],
        [
          'a users cursor whose id is a UUID without dashes',
          '/api/v1/admin/users?cursor=' + encodeCursor(['2024-01-01T00:00:00.000Z', USER_ID.replace(/-/g, '')]),
        ],
        [
          'a users cursor with February 30th',
          '/api/v1/admin/users?cursor=' + encodeCursor(['2024-02-30T00:00:00.000Z', USER_ID]),
        ],
        [
          'a users cursor in year 0000',
          '/api/v1/admin/users?cursor=' + encodeCursor(['0000-01-01T00:00:00.000Z', USER_ID]),
        ],
        [
          'a users cursor in year 275760',
          '/api/v1/admin/users?cursor=' + encodeCursor(['+275760-09-13T00:00:00.000Z', USER_ID]),
        ],
        [
          'an audit cursor above the bigint maximum',
          '/api/v1/admin/audit?cursor=' + encodeCursor(['9223372036854775808']),
        ],
        ['an audit cursor of nineteen nines', '/api/v1/admin/audit?cursor=' + encodeCursor(['9999999999999999999'])],
        ['since in year -9999', '/api/v1/admin/audit?since=-9999-01-01T00:00:00Z'],
        ['until in ISO basic format, no date to JavaScript', '/api/v1/admin/audit?until=20240101T000000Z'],
        ['until as an ISO week date', '/api/v1/admin/audit?until=2024-W01-1'],
      ])('answers 400 validation_failed to %s', async (_title, path) => {
        const response = await app.request('GET', path, { headers: bearer(admin.accessToken) });
        expect({ status: response.status, code: response.body.code }).toEqual({
          status: 400,
          code: 'validation_failed',
        });
      });

      it('takes dates from 1970 to 9999, not a second before, and the cursors it returns', async () => {
        const get = (path: string) => app.request('GET', path, { headers: bearer(admin.accessToken) });
        expect((await get('/api/v1/admin/audit?since=1969-12-31T23:59:59Z')).status).toBe(400);
        const events = await get(
          '/api/v1/admin/audit?limit=1&since=1970-01-01T00:00:00Z&until=9999-12-31T23:59:59.999Z',
        );
        expect(events.status).toBe(200);
        expect((await get(`/api/v1/admin/audit?limit=1&cursor=${events.body.nextCursor}`)).status).toBe(200);
        const users = await get('/api/v1/admin/users?limit=1');
        expect((await get(`/api/v1/admin/users?limit=1&cursor=${users.body.nextCursor}`)).status).toBe(200);
      });
    });

    describe('responses that set or clear the session cookie', () => {
      const codePage = (page: PageClient) => page.requestCode(uniqueEmail('page'));

      it('sends no-store with the 303 of POST /verify-otp, and of POST /logout', async () => {
        const page = new PageClient(app);
        const { _csrf, email, sessionId, code } = await codePage(page);
        const signedIn = await page.send('POST', '/verify-otp', { form: { _csrf, email, sessionId, code } });
        expect(signedIn.status).toBe(303);
        expect(signedIn.headers.getSetCookie().join()).toMatch(/otp_session=[^;]+/);
        expect(signedIn.headers.get('cache-control')).toBe('no-store');
        const dashboard = await (await page.send('GET', '/dashboard')).text();
        const signedOut = await page.send('POST', '/logout', {
          form: { _csrf: /name="_csrf" value="([^"]+)"/.exec(dashboard)![1] },
        });
        expect(signedOut.status).toBe(303);
        expect(signedOut.headers.get('cache-control')).toBe('no-store');
      });

      it("sends no-store with the 303 of the mail link's POST /login/link", async () => {
        const page = new PageClient(app);
        const { _csrf, sessionId, code } = await codePage(page);
        const signedIn = await page.send('POST', '/login/link', { form: { _csrf, sessionId, code } });
        expect(signedIn.status).toBe(303);
        expect(signedIn.headers.getSetCookie().join()).toMatch(/otp_session=[^;]+/);
        expect(signedIn.headers.get('cache-control')).toBe('no-store');
      });
    });
  });
}
