import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { DataSource } from 'typeorm';
import { requestCode, signIn, uniqueEmail } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

interface LogLine {
  level: number;
  msg?: string;
  context?: string;
  requestId?: string;
  req?: { id?: string; method?: string; path?: string };
  res?: { status?: number };
  responseTime?: number;
  [field: string]: unknown;
}

const INFO = 30;
const ERROR = 50;

describe('log lines (pino through nestjs-pino)', () => {
  let app: TestApp;
  const written: string[] = [];
  const lines = () => written.join('').split('\n').filter(Boolean);
  const parsed = () => lines().map((line) => JSON.parse(line) as LogLine);
  const requestLine = (requestId: string) =>
    parsed().find((line) => line.req?.id === requestId && line.responseTime !== undefined);

  beforeAll(async () => {
    const logStream = new Writable({ write: (chunk, _encoding, done) => (written.push(String(chunk)), done()) });
    app = await startTestApp({ backend: 'sqlite-memory', logStream, env: { LOG_LEVEL: 'info' } });
  });
  afterAll(() => app?.close());

  it("writes Nest's own lines as JSON lines with their context", () => {
    expect(parsed()).toContainEqual(
      expect.objectContaining({
        level: INFO,
        context: 'NestApplication',
        msg: 'Nest application successfully started',
      }),
    );
  });

  it('logs a sign-in link without its query, the Authorization and Cookie headers or the cookies set', async () => {
    const { accessToken } = await signIn(app);
    const { sessionId, code } = await requestCode(app, uniqueEmail());
    const sessionCookie = randomBytes(24).toString('base64url');
    const requestId = `log-link-${randomBytes(4).toString('hex')}`;

    const response = await app.request('GET', `/login/link?${new URLSearchParams({ session: sessionId, code })}`, {
      headers: {
        authorization: `Bearer ${accessToken}`,
        cookie: `otp_session=${sessionCookie}`,
        'x-request-id': requestId,
      },
    });
    expect(response.status).toBe(200);
    // The page answers with the code in its form and sets the CSRF cookie: both must stay out of the log.
    const setCookie = response.headers.getSetCookie();
    expect(setCookie.length).toBeGreaterThan(0);
    const csrfSecret = /^[^=]+=([^;]+)/.exec(setCookie[0])![1];

    await waitFor(() => requestLine(requestId));
    expect(requestLine(requestId)).toMatchObject({
      level: INFO,
      msg: 'request completed',
      req: { id: requestId, method: 'GET', path: '/login/link' },
      res: { status: 200 },
      responseTime: expect.any(Number),
    });
    const logs = written.join('');
    for (const secret of [code, sessionId, accessToken, sessionCookie, csrfSecret]) expect(logs).not.toContain(secret);
    expect(logs).not.toMatch(/authorization|cookie|\?session=/i);
  });

  it('writes an unexpected error as an error line of its request, and the request line at error level', async () => {
    const { accessToken } = await signIn(app);
    await app.app.get(DataSource).query('DROP TABLE "users"');
    const requestId = `log-error-${randomBytes(4).toString('hex')}`;

    const response = await app.request('GET', '/api/v1/users/me?trace=1', {
      headers: { authorization: `Bearer ${accessToken}`, 'x-request-id': requestId },
    });
    expect(response.status).toBe(500);

    await waitFor(() => requestLine(requestId));
    const ofRequest = parsed().filter((line) => line.req?.id === requestId || line.requestId === requestId);
    expect(ofRequest).toContainEqual(
      expect.objectContaining({
        level: ERROR,
        context: 'Errors',
        requestId,
        msg: expect.stringMatching(/^GET \/api\/v1\/users\/me failed: /),
        stack: expect.any(String),
      }),
    );
    expect(requestLine(requestId)).toMatchObject({
      level: ERROR,
      req: { path: '/api/v1/users/me' },
      res: { status: 500 },
    });
    expect(written.join('')).not.toContain(accessToken);
  });
});

/** The request line is written when the response has been sent, which may be after the client has it. */
async function waitFor(found: () => unknown, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!found() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}
