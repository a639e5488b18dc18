import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { COMPILED_MAIN, freePort, waitUntil } from '../support/app-process';
import { describeWith } from '../support/services';
import { uniqueEmail } from '../support/factories';
import { BACKENDS, startTestApp, TestApp } from '../support/test-app';

for (const { backend, needs } of BACKENDS) {
  describeWith(needs, `health on ${backend}`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({ backend });
    });
    afterAll(() => app?.close());

    it('is live and ready, naming each dependency', async () => {
      expect((await app.request('GET', '/health/live')).status).toBe(200);
      const ready = await app.request('GET', '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe('ok');
      expect(ready.body.details).toMatchObject({
        database: { status: 'up' },
        otpStore: { status: 'up', kind: backend === 'sqlite-memory' ? 'memory' : 'redis' },
        mail: { status: 'up', transport: 'smtp' },
      });
    });
  });
}

describe('mail failures', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ backend: 'sqlite-memory', env: { MAIL_TIMEOUT_MS: '500' } });
  });
  afterEach(() => {
    app.sink.mode = 'accept';
  });
  afterAll(() => app?.close());

  it.each(['close', 'stall'] as const)(
    'answers 503 mail_unavailable within the timeout when the server does %s, and records it',
    async (mode) => {
      app.sink.mode = mode;
      const email = uniqueEmail(mode);
      const started = Date.now();
      const response = await app.request('POST', '/api/v1/auth/otp', { json: { email } });
      expect(response.status).toBe(503);
      expect(response.body.code).toBe('mail_unavailable');
      expect(Date.now() - started).toBeLessThan(1500);
      const events = await app.app
        .get(DataSource)
        .query(`SELECT type FROM audit_events WHERE email = ? ORDER BY id`, [email]);
      expect(events.map((event: { type: string }) => event.type)).toEqual(['otp.requested', 'otp.send_failed']);
    },
  );

  it('reports the mail server that drops connections as degraded, not down', async () => {
    app.sink.mode = 'close';
    const ready = await app.request('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'degraded',
      details: { mail: { status: 'degraded', transport: 'smtp' }, database: { status: 'up' } },
    });
  });

  it('retries a transient refusal once', async () => {
    app.sink.mode = 'defer-once';
    const email = uniqueEmail('deferred');
    const response = await app.request('POST', '/api/v1/auth/otp', { json: { email } });
    expect(response.status).toBe(202);
    expect(app.sink.messagesTo(email)).toHaveLength(1);
  });
});

describe('development mailbox', () => {
  let outbox: string;
  beforeAll(() => {
    outbox = mkdtempSync(join(tmpdir(), 'outbox-'));
  });
  afterAll(() => rmSync(outbox, { recursive: true, force: true }));

  it('keeps mail under the outbox and lists it at /dev/outbox in development', async () => {
    const app = await startTestApp({
      backend: 'sqlite-memory',
      env: { NODE_ENV: 'development', MAIL_SERVER: '', MAIL_OUTBOX_DIR: outbox },
    });
    try {
      const email = uniqueEmail('dev');
      expect((await app.request('POST', '/api/v1/auth/otp', { json: { email } })).status).toBe(202);
      const listed = await app.request('GET', '/dev/outbox');
      expect(listed.status).toBe(200);
      expect(listed.body.items[0]).toMatchObject({ to: email });
      expect(listed.body.items[0].text).toMatch(/\b\d{6}\b/);
    } finally {
      await app.close();
    }
  });

  it('does not exist outside development', async () => {
    const app = await startTestApp({ backend: 'sqlite-memory' });
    try {
      const response = await app.request('GET', '/dev/outbox');
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('not_found');
    } finally {
      await app.close();
    }
  });
});

describe('the compiled server (npm run start:prod)', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'prod-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const run = (env: Record<string, string>, cwd = dataDir) => {
    const child = spawn(process.execPath, [COMPILED_MAIN], {
      cwd,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, exited, stderr: () => stderr };
  };

  it.each([
    [{ NODE_ENV: 'production' }, 'SECRET_KEY'],
    [{ OTP_TTL_SECONDS: '900' }, 'OTP_TTL_SECONDS'],
    [{ DATABASE_URL: 'mongodb://x' }, 'DATABASE_URL'],
    [{ JWT_PRIVATE_KEY: 'not a key' }, 'JWT_PRIVATE_KEY'],
    [{ MAIL_LOCALES: 'xx' }, 'MAIL_LOCALES'],
    // Production never falls back to the development mailbox, which writes codes to the log.
    [{ NODE_ENV: 'production', SECRET_KEY: 'a'.repeat(24) + 'Zq8w-3kP1x' }, 'MAIL_SERVER'],
    [{ TRUST_PROXY: 'true' }, 'TRUST_PROXY'],
  ])('refuses %j with one line naming the variable', async (env, variable) => {
    const server = run(env);
    expect(await server.exited).toBe(1);
    const lines = server.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(variable);
  });

  it('reads .env from its working directory, the process environment winning over it', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'dotenv-'));
    try {
      writeFileSync(join(cwd, '.env'), 'TRUST_PROXY=true\nOTP_TTL_SECONDS=900\n');
      const server = run({ TRUST_PROXY: 'false' }, cwd);
      expect(await server.exited).toBe(1);
      expect(server.stderr()).toBe('Invalid configuration: OTP_TTL_SECONDS must be between 1 and 600, got 900\n');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('serves on the embedded default and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const server = run({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
    try {
      await waitUntil(
        async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok,
        'the server did not come up',
      );
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/auth/otp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ada@example.com' }),
      });
      expect(response.status).toBe(202);
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await server.exited).toBe(0);
  });
});

describe('routing errors', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ backend: 'sqlite-memory' });
  });
  afterAll(() => app?.close());

  it.each([
    ['DELETE', '/api/v1/auth/otp', 'POST'],
    ['PUT', '/api/v1/users/me', 'DELETE, GET, PATCH'],
    ['POST', '/health/live', 'GET'],
  ])('answers %s %s with 405 and Allow: %s', async (method, path, allow) => {
    const response = await app.request(method, path);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe(allow);
    expect(response.body.code).toBe('method_not_allowed');
  });

  it('answers an unknown path with 404 not_found', async () => {
    const response = await app.request('GET', '/api/v1/nothing-here');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body.code).toBe('not_found');
  });
});

describe('metrics', () => {
  it('serves Prometheus text with HTTP latency, codes and mail metrics', async () => {
    const app = await startTestApp({ backend: 'sqlite-memory' });
    try {
      await app.request('POST', '/api/v1/auth/otp', { json: { email: uniqueEmail('metrics') } });
      const response = await app.request('GET', '/metrics');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const samples = parsePrometheus(response.text);
      expect(samples.get('otp_codes_total{outcome="sent"}')).toBe(1);
      expect(
        samples.get('http_request_duration_seconds_count{method="POST",route="/api/v1/auth/otp",status="202"}'),
      ).toBe(1);
      expect(samples.get('mail_send_duration_seconds_count{transport="smtp",outcome="sent"}')).toBe(1);
      expect(samples.get('otp_store_fallback')).toBe(0);
    } finally {
      await app.close();
    }
  });
});

/** Parses the text exposition format strictly: every line is a comment or `name{labels} value`. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (-?[0-9.eE+-]+|NaN|[+-]Inf)$/.exec(
        line,
      );
    if (!match) throw new Error(`not Prometheus text: ${line}`);
    samples.set(match[1], Number(match[2]));
  }
  return samples;
}
