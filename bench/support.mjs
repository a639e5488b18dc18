// Shared by the benchmarks: a fresh PostgreSQL database, an SMTP sink, the compiled server.
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/6';

export async function freshDatabase(name) {
  if (!/^otp_bench\w*$/.test(name)) throw new Error(`refusing to recreate ${name}`);
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.href;
}

/** A real SMTP server keeping the latest code per address. */
export async function startSink() {
  const codes = new Map();
  const waiters = new Map();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then((mail) => {
        const code = /\b(\d{6,10})\b/.exec(mail.text ?? '')?.[1];
        for (const to of session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase())) {
          codes.set(to, code);
          waiters.get(to)?.(code);
          waiters.delete(to);
        }
        callback();
      }, callback);
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  return {
    port: server.server.address().port,
    /** The latest code mailed to the address; waits for it, or until timeoutMs and then resolves undefined. */
    code: (email, timeoutMs = Infinity) =>
      codes.get(email) ??
      new Promise((resolve) => {
        waiters.set(email, resolve);
        if (timeoutMs !== Infinity)
          setTimeout(() => {
            waiters.delete(email);
            resolve(undefined);
          }, timeoutMs).unref();
      }),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

export async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

/**
 * `npm run start:prod` as production runs it, on a free port; resolves when it is ready, with the
 * environment it runs with (the CLI needs the same keys).
 */
export async function startServer(env) {
  const port = await freePort();
  const serverEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    SECRET_KEY: randomBytes(32).toString('hex'),
    JWT_PRIVATE_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }),
    REDIS_URL,
    REDIS_KEY_PREFIX: `bench:${randomBytes(3).toString('hex')}:`,
    MAIL_SERVER: '127.0.0.1',
    MAIL_DEFAULT_SENDER: 'bench@example.com',
    LOG_LEVEL: 'warn',
    ...env,
  };
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: ROOT,
    // The server's log goes to stderr: the results stay alone on stdout.
    stdio: ['ignore', 2, 2],
    env: serverEnv,
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    if (
      await fetch(`${url}/health/live`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, pid: child.pid, env: serverEnv, stop: () => stopChild(child) };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error('the server did not come up');
}

export async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * What a bench started, stopped in reverse order once: when it ends, when it fails, and on
 * Ctrl-C or SIGTERM (which then exit with 130 / 143).
 */
export function teardown() {
  const steps = [];
  let done;
  const run = () =>
    (done ??= (async () => {
      for (const step of steps.reverse()) await step().catch((error) => console.error(`teardown: ${error.message}`));
    })());
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ]) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping what the bench started`);
      void run().finally(() => process.exit(code));
    });
  }
  return { add: (step) => steps.push(step), run };
}

export async function postJson(url, body, headers = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

/** A sign-in through the real flow: code requested, read from the sink, verified. */
export async function signIn(url, sink, email) {
  const { body } = await postJson(`${url}/api/v1/auth/otp`, { email });
  const code = await sink.code(email);
  const verified = await postJson(`${url}/api/v1/auth/otp/verify`, { sessionId: body.sessionId, code });
  if (verified.status !== 200) throw new Error(`sign-in failed: ${verified.status}`);
  return verified.body;
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
