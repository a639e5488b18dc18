import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import Redis from 'ioredis';
import { freePort, waitUntil } from '../support/app-process';
import { describeWith } from '../support/services';
import { requestCode, uniqueEmail } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

/** A redis-server of the test's own, on its own port: never the machine's shared one. */
class OwnRedis {
  private process?: ChildProcess;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  async start(): Promise<void> {
    this.process = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const client = new Redis(this.url, { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 0 });
    for (let i = 0; i < 100; i++) {
      if (
        await client.connect().then(
          () => true,
          () => false,
        )
      )
        break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    client.disconnect();
  }

  async stop(): Promise<void> {
    if (!this.process || this.process.exitCode !== null) return;
    this.process.kill('SIGKILL');
    await once(this.process, 'exit');
  }

  /** Stopped, not killed: connections stay open and commands go unanswered. */
  freeze(): void {
    this.process?.kill('SIGSTOP');
  }

  thaw(): void {
    this.process?.kill('SIGCONT');
  }

  async keyCount(): Promise<number> {
    const client = new Redis(this.url);
    try {
      return await client.dbsize();
    } finally {
      client.disconnect();
    }
  }
}

const storeState = async (app: TestApp) => (await app.request('GET', '/health/ready')).body.details.otpStore.status;

describeWith(['redis'], 'Redis outage and recovery', () => {
  let redis: OwnRedis;
  let app: TestApp;

  async function startApp(fallback: 'memory' | 'fail') {
    redis = new OwnRedis(await freePort());
    await redis.start();
    app = await startTestApp({
      backend: 'sqlite-memory',
      env: {
        OTP_STORE: 'auto',
        REDIS_URL: redis.url,
        REDIS_FALLBACK: fallback,
        REDIS_TIMEOUT_MS: '500',
        OTP_RESEND_COOLDOWN_SECONDS: '0',
      },
    });
    await waitUntil(async () => (await storeState(app)) === 'up', 'Redis to be in use');
  }

  afterEach(async () => {
    await app?.close();
    await redis?.stop();
  });

  it('keeps serving from memory while Redis is down (health degraded), then returns to Redis', async () => {
    await startApp('memory');
    await requestCode(app, uniqueEmail('before'));
    expect(await redis.keyCount()).toBeGreaterThan(0);

    await redis.stop();
    const email = uniqueEmail('during');
    const started = Date.now();
    const { sessionId, code } = await requestCode(app, email);
    expect(Date.now() - started).toBeLessThan(2000);
    const ready = await app.request('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'degraded',
      details: { otpStore: { status: 'degraded', kind: 'redis', fallback: 'memory' } },
    });
    expect((await app.request('POST', '/api/v1/auth/otp/verify', { json: { sessionId, code } })).status).toBe(200);

    await redis.start();
    await waitUntil(async () => (await storeState(app)) === 'up', 'Redis to be used again');
    expect(await redis.keyCount()).toBe(0);
    await requestCode(app, uniqueEmail('after'));
    expect(await redis.keyCount()).toBeGreaterThan(0);
  });

  it('counts a Redis that stays connected but does not answer as an outage, until it answers again', async () => {
    await startApp('memory');
    redis.freeze();
    try {
      const during = await requestCode(app, uniqueEmail('frozen'));
      expect(during.sessionId).toBeTruthy();
      expect(await storeState(app)).toBe('degraded');
    } finally {
      redis.thaw();
    }
    expect(await storeState(app)).toBe('up');
  });

  it('answers 503 service_unavailable without hanging when REDIS_FALLBACK=fail, and recovers', async () => {
    await startApp('fail');
    await redis.stop();
    const started = Date.now();
    const refused = await app.request('POST', '/api/v1/auth/otp', { json: { email: uniqueEmail('refused') } });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('service_unavailable');
    expect(refused.headers.get('retry-after')).toBeTruthy();
    const page = await fetch(`${app.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: uniqueEmail('page') }).toString(),
    });
    expect(page.status).toBe(503);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('The service is briefly unavailable');
    const ready = await app.request('GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.details.otpStore.status).toBe('down');

    await redis.start();
    await waitUntil(async () => (await storeState(app)) === 'up', 'Redis to be used again');
    await requestCode(app, uniqueEmail('recovered'));
  });
});
