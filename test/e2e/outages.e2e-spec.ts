import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer, connect, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { CleanupJob } from '../../src/cleanup/cleanup.job';
import { waitUntil } from '../support/app-process';
import { describeWith } from '../support/services';
import { requestCode, signIn, uniqueEmail } from '../support/factories';
import { SmtpSink } from '../support/smtp-sink';
import { startTestApp, TestApp } from '../support/test-app';

/** A TCP hop in front of PostgreSQL that the test can cut and restore, like a network outage. */
class CuttableProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as { port: number }).port;
  }

  async cut(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server!.close(resolve));
  }
}

describeWith(['postgres', 'redis'], 'PostgreSQL outage', () => {
  let proxy: CuttableProxy;
  let app: TestApp;
  beforeEach(async () => {
    proxy = new CuttableProxy({ host: '127.0.0.1', port: 5432 });
    await proxy.open();
    app = await startTestApp({
      backend: 'postgres-redis',
      env: { OTP_RESEND_COOLDOWN_SECONDS: '0' },
      rewriteEnv: (env) => ({ ...env, DATABASE_URL: env.DATABASE_URL.replace(/:5432\//, `:${proxy.port}/`) }),
    });
  });
  afterEach(async () => {
    await app?.close();
    await proxy.cut().catch(() => undefined);
  });

  const reconnect = async () => {
    await proxy.open();
    await waitUntil(
      async () => (await app.request('GET', '/health/ready')).status === 200,
      'the database to be back',
      20_000,
    );
  };

  it('answers a code request 503 service_unavailable, mails nothing, and recovers without a restart', async () => {
    const email = uniqueEmail('pg');
    await signIn(app, email);
    await proxy.cut();

    const started = Date.now();
    const mailed = app.sink.messagesTo(email).length;
    const refused = await app.request('POST', '/api/v1/auth/otp', { json: { email } });
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('service_unavailable');
    expect(Date.now() - started).toBeLessThan(8000);
    // The request could not be put on record, so no mail went out and no limit was spent.
    expect(app.sink.messagesTo(email)).toHaveLength(mailed);
    const ready = await app.request('GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.details.database.status).toBe('down');

    await reconnect();
    await signIn(app, email);
  });

  it('gives the code back when the sign-in cannot be recorded, so the same code works once the database is back', async () => {
    const { sessionId, code } = await requestCode(app, uniqueEmail('pg-verify'));
    await proxy.cut();
    const failed = await app.request('POST', '/api/v1/auth/otp/verify', { json: { sessionId, code } });
    expect(failed.status).toBe(503);

    await reconnect();
    const signedIn = await app.request('POST', '/api/v1/auth/otp/verify', { json: { sessionId, code } });
    expect(signedIn.status).toBe(200);
    expect((await app.request('POST', '/api/v1/auth/otp/verify', { json: { sessionId, code } })).body.code).toBe(
      'otp_expired',
    );
  });
});

describe('cleanup', () => {
  it('removes expired codes from the database and the memory store, and audits what it removed', async () => {
    const app = await startTestApp({ backend: 'sqlite-memory', env: { OTP_TTL_SECONDS: '1' } });
    try {
      await requestCode(app, uniqueEmail('short'));
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const counts = await app.app.get(CleanupJob).run();
      expect(counts).toMatchObject({ otpTokens: 1, memoryLogins: 1 });
      const db = app.app.get(DataSource);
      expect((await db.query('SELECT COUNT(*) AS n FROM otp_tokens'))[0].n).toBe(0);
      const [event] = await db.query(`SELECT details FROM audit_events WHERE type = 'otp.cleanup'`);
      expect(JSON.parse(event.details)).toMatchObject({ otpTokens: 1, memoryLogins: 1 });
    } finally {
      await app.close();
    }
  });
});

describeWith(['postgres', 'redis'], 'cleanup on two instances sharing Redis', () => {
  it('runs once per tick', async () => {
    const a = await startTestApp({ backend: 'postgres-redis', env: { OTP_TTL_SECONDS: '1' } });
    const b = await startTestApp({ backend: 'postgres-redis', sameDeploymentAs: a, sink: a.sink });
    try {
      for (let i = 0; i < 3; i++) await requestCode(a, uniqueEmail('tick'));
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const runs = await Promise.all([a.app.get(CleanupJob).run(), b.app.get(CleanupJob).run()]);
      expect(runs.filter((run) => run !== undefined)).toHaveLength(1);
      expect(runs.find((run) => run !== undefined)).toMatchObject({ otpTokens: 3 });
      const events = await a.app
        .get(DataSource)
        .query(`SELECT COUNT(*) AS n FROM audit_events WHERE type = 'otp.cleanup'`);
      expect(Number(events[0].n)).toBe(1);
    } finally {
      await b.close();
      await a.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('finishes a request in flight on SIGTERM, then exits 0', async () => {
    const sink = new SmtpSink();
    await sink.start();
    sink.mode = 'slow';
    const portServer = createServer().listen(0, '127.0.0.1');
    await once(portServer, 'listening');
    const port = (portServer.address() as { port: number }).port;
    portServer.close();
    const server = spawn(process.execPath, [join(__dirname, '..', '..', 'dist', 'src', 'main.js')], {
      cwd: mkdtempSync(join(tmpdir(), 'shutdown-')),
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        MAIL_SERVER: '127.0.0.1',
        MAIL_PORT: String(sink.port),
        MAIL_DEFAULT_SENDER: 'a@example.com',
      },
      stdio: 'ignore',
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitUntil(
        () =>
          fetch(`${url}/health/live`).then(
            (response) => response.ok,
            () => false,
          ),
        'the server',
        20_000,
      );
      const inFlight = fetch(`${url}/api/v1/auth/otp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'slow@example.com' }),
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      server.kill('SIGTERM');
      expect((await inFlight).status).toBe(202);
      const [exitCode] = await once(server, 'exit');
      expect(exitCode).toBe(0);
    } finally {
      server.kill('SIGKILL');
      await sink.stop();
    }
  });
});
