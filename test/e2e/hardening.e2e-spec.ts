import { connect } from 'node:net';
import { DataSource } from 'typeorm';
import { signIn } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

/** Sends bytes as they are, for requests no HTTP client would produce. */
async function rawHttp(app: TestApp, request: string): Promise<string> {
  const { port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('end', () => resolve(received));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    socket.end(request);
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
  const HOSTILE_QUERIES = ['?email=%27%20OR%201%3D1--', '?x=%00', '?a[b][c]=1', `?long=${'x'.repeat(4000)}`, '?%E2%80%AE=rtl', '?__proto__[admin]=1'];

  it.each(ROUTES.flatMap(([method, path]) => HOSTILE_QUERIES.map((query) => [method, path, query] as const)))(
    '%s %s%s never answers 5xx',
    async (method, path, query) => {
      const response = await app.request(method, path + query, { json: method === 'GET' ? undefined : {}, headers: { authorization: `Bearer ${accessToken}` } });
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
    ['a header larger than the server accepts', `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
    ['a body shorter than its Content-Length', 'POST /api/v1/auth/otp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"email":"a@b.c"}'],
    ['a malformed request line', 'GARBAGE\r\n\r\n'],
    ['conflicting Content-Length and Transfer-Encoding', 'POST /api/v1/auth/otp HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['a bad chunk size', 'POST /api/v1/auth/otp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
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
    for (const directive of ["frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"]) expect(csp).toContain(directive);
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
    const app = await startTestApp({ backend: 'sqlite-memory', env: { NODE_ENV: 'production', CORS_ORIGINS: 'https://app.example.com' } });
    try {
      const response = await app.request('GET', '/health/live');
      expect(response.headers.get('strict-transport-security')).toContain('max-age=31536000');
      const allowed = await app.request('OPTIONS', '/api/v1/auth/otp', { headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' } });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      const refused = await app.request('OPTIONS', '/api/v1/auth/otp', { headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
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
      const response = await app.request('GET', '/api/v1/users/me', { headers: { authorization: `Bearer ${accessToken}` } });
      expect(response.status).toBe(500);
      expect(response.body).toMatchObject({ code: 'internal_error', detail: 'Something went wrong on our side.' });
      expect(response.text).not.toMatch(/users|SQLITE|table|at /i);
    } finally {
      await app.close();
    }
  });
});
