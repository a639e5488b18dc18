import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SmtpSink } from './smtp-sink';
import { deploymentEnv, httpRequest, HttpResult, RequestOptions } from './test-app';

/** What `npm run start:prod` runs. */
export const COMPILED_MAIN = join(__dirname, '..', '..', 'dist', 'src', 'main.js');

const KEPT_LINES = 2000;
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5000;

/** Last resort when the test process goes away without its afterAll: no server outlives it. */
const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

export function assertCompiled(): void {
  if (!existsSync(COMPILED_MAIN))
    throw new Error(`${COMPILED_MAIN} is missing: run \`npm run build\` first (\`npm test\` builds it in pretest)`);
}

/** Distinct free loopback ports: all are held until every one is known, so none is handed out twice. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    }
    return servers.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

export async function freePort(): Promise<number> {
  return (await freePorts(1))[0];
}

/** Polls `check` until it holds; `stop` ends the wait early with its reason (e.g. the process died). */
export async function waitUntil(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
  stop: () => string | undefined = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = stop();
    if (reason) throw new Error(`${what}: ${reason}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface AppProcessOptions {
  name: string;
  env: Record<string, string>;
  port: number;
  /** Where the server's mail goes; kept here so the test can read the codes. */
  sink: SmtpSink;
}

/**
 * The compiled server as a child process on its own port, in an empty working directory (no
 * `.env` is picked up) and with only the environment given. Its output is kept for diagnosis.
 */
export class AppProcess {
  readonly url: string;
  private readonly lines: string[] = [];
  private exitCode?: number | null;
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    readonly sink: SmtpSink,
    private readonly child: ChildProcess,
    private readonly cwd: string,
    port: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = '';
      stream.setEncoding('utf8').on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop()!;
        this.lines.push(...parts);
        if (this.lines.length > KEPT_LINES) this.lines.splice(0, this.lines.length - KEPT_LINES);
      });
    }
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        running.delete(child);
        this.exitCode = code;
        resolve(code);
      }),
    );
  }

  /** Starts the server and waits until it answers `/health/ready`; on failure it is stopped and its last lines are in the error. */
  static async start({ name, env, port, sink }: AppProcessOptions): Promise<AppProcess> {
    assertCompiled();
    const cwd = mkdtempSync(join(tmpdir(), `otp-${name}-`));
    const child = spawn(process.execPath, [COMPILED_MAIN], {
      cwd,
      env: { PATH: process.env.PATH, ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    const app = new AppProcess(name, sink, child, cwd, port);
    try {
      await waitUntil(
        async () => (await fetch(`${app.url}/health/ready`)).ok,
        `instance ${name} did not become ready`,
        START_TIMEOUT_MS,
        () => (app.exitCode !== undefined ? `it exited with ${app.exitCode}` : undefined),
      );
    } catch (error) {
      await app.stop();
      throw new Error(`${(error as Error).message}\n${app.tail()}`);
    }
    return app;
  }

  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<HttpResult<T>> {
    return httpRequest<T>(this.url, method, path, options);
  }

  get output(): readonly string[] {
    return this.lines;
  }

  /** pino's lines at error level or above. */
  get errorLines(): string[] {
    return this.lines.filter((line) => {
      try {
        return Number((JSON.parse(line) as { level?: unknown }).level) >= 50;
      } catch {
        return false;
      }
    });
  }

  tail(count = 30): string {
    const lines = this.lines.slice(-count);
    return lines.length === 0
      ? `--- instance ${this.name}: no output ---`
      : `--- last ${lines.length} lines of instance ${this.name} ---\n${lines.join('\n')}`;
  }

  /** A crash: SIGKILL at once, nothing finishes. */
  async kill(): Promise<void> {
    if (this.exitCode === undefined) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited within the grace; resolves to the exit code (null when killed). */
  async stop(): Promise<number | null> {
    if (this.exitCode === undefined) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.cwd, { recursive: true, force: true });
    return this.exitCode ?? null;
  }
}

export interface Deployment {
  instances: AppProcess[];
  sink: SmtpSink;
  env: Record<string, string>;
  /** Runs a test body; when it fails, the error carries the last lines of every instance. */
  explained(body: () => Promise<void>): () => Promise<void>;
  /** Stops every instance and removes the database, the Redis keys and the sink; resolves to the exit codes. */
  stop(): Promise<(number | null)[]>;
}

/**
 * Several compiled instances of one deployment: same secrets and signing key, one fresh
 * PostgreSQL database, one Redis key prefix, one SMTP sink. All start at once, as after a deploy.
 * `ports` (from `freePorts`) when the environment must name an instance's URL, e.g. as PUBLIC_URL.
 */
export async function startDeployment(
  count: number,
  env: Record<string, string>,
  ports?: number[],
): Promise<Deployment> {
  assertCompiled();
  if (ports && ports.length !== count) throw new Error(`${count} instances need ${count} ports, not ${ports.length}`);
  const cleanups: (() => Promise<void> | void)[] = [];
  const sink = new SmtpSink();
  await sink.start();
  cleanups.push(() => sink.stop());
  let instances: AppProcess[] = [];
  const stop = async () => {
    const codes = await Promise.all(instances.map((instance) => instance.stop()));
    for (const cleanup of cleanups.reverse()) await cleanup();
    return codes;
  };
  try {
    const deployment = {
      ...(await deploymentEnv('postgres-redis', cleanups)),
      MAIL_PORT: String(sink.port),
      LOG_LEVEL: 'warn',
      ...env,
    };
    const instancePorts = ports ?? (await freePorts(count));
    const started = await Promise.allSettled(
      instancePorts.map((port, i) =>
        AppProcess.start({ name: String.fromCharCode(65 + i), env: deployment, port, sink }),
      ),
    );
    instances = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failed = started.flatMap((result) =>
      result.status === 'rejected' ? [(result.reason as Error).message] : [],
    );
    if (failed.length > 0) throw new Error(failed.join('\n'));
    return {
      instances,
      sink,
      env: deployment,
      explained: (body) => async () => {
        try {
          await body();
        } catch (error) {
          const tails = `\n\n${instances.map((instance) => instance.tail(15)).join('\n')}`;
          if (error instanceof Error) error.message += tails;
          throw error;
        }
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
