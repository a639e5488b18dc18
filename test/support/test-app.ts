import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { LoggerService } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import { createApp } from '../../src/app.factory';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { SmtpSink } from './smtp-sink';
import { createTestDatabase } from './test-database';
import { TEST_REDIS_URL } from './services';

export type Backend = 'sqlite-memory' | 'postgres-redis';

export const BACKENDS: { backend: Backend; needs: ('postgres' | 'redis')[] }[] = [
  { backend: 'sqlite-memory', needs: [] },
  { backend: 'postgres-redis', needs: ['postgres', 'redis'] },
];

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestApp {
  url: string;
  app: NestFastifyApplication;
  config: AppConfig;
  sink: SmtpSink;
  env: Record<string, string>;
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<HttpResult<T>>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  backend: Backend;
  env?: Record<string, string>;
  /** Share a sink (and so see each other's mail) between instances. */
  sink?: SmtpSink;
  /** Reuse another instance's database and secrets: a second instance of the same deployment. */
  sameDeploymentAs?: TestApp;
  /** Takes Nest's log lines instead of pino (which still writes the request lines to `logStream`). */
  logger?: LoggerService;
  /** Receives pino's lines: requests, and Nest's unless `logger` is given; by default they are dropped. */
  logStream?: Writable;
  /** On postgres-redis: use this Redis Cluster (REDIS_CLUSTER_NODES seed list) instead of the shared Redis. */
  redisClusterNodes?: string;
  /** Last say over the environment, e.g. to route the database through a proxy. */
  rewriteEnv?: (env: Record<string, string>) => Record<string, string>;
  /** Listen here instead of a port the system picks: for a PUBLIC_URL (an OpenID issuer) known before start. */
  port?: number;
}

export function newSigningKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

/** Boots the real application on a free loopback port, with real SMTP, database and store. */
export async function startTestApp(options: TestAppOptions): Promise<TestApp> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const sink = options.sink ?? new SmtpSink();
  if (!options.sink) {
    await sink.start();
    cleanups.push(() => sink.stop());
  }
  const env = options.sameDeploymentAs
    ? { ...options.sameDeploymentAs.env }
    : await deploymentEnv(options.backend, cleanups, options.redisClusterNodes);
  Object.assign(env, { MAIL_PORT: String(sink.port) }, options.env);

  const config = loadConfig(options.rewriteEnv ? options.rewriteEnv(env) : env);
  const app = await createApp(config, {
    logger: options.logger,
    logStream: options.logStream ?? new Writable({ write: (_chunk, _encoding, done) => done() }),
  });
  await app.listen(options.port ?? 0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;

  return {
    url,
    app,
    config,
    sink,
    env,
    request: (method, path, options) => httpRequest(url, method, path, options),
    async close() {
      await app.close();
      for (const cleanup of cleanups.reverse()) await cleanup();
    },
  };
}

export interface RequestOptions {
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
}

/** One HTTP request to a running server; the body parsed as JSON when it is JSON. */
export async function httpRequest<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  { json, body, headers = {} }: RequestOptions = {},
): Promise<HttpResult<T>> {
  const response = await fetch(baseUrl + path, {
    method,
    headers: json === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: json === undefined ? body : JSON.stringify(json),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

/** The environment of a fresh deployment: its own secrets, signing key, database and Redis key prefix. */
export async function deploymentEnv(
  backend: Backend,
  cleanups: (() => Promise<void> | void)[],
  redisClusterNodes?: string,
): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    SECRET_KEY: randomBytes(32).toString('hex'),
    JWT_PRIVATE_KEY: newSigningKeyPem(),
    PUBLIC_URL: 'http://login.test',
    MAIL_SERVER: '127.0.0.1',
    MAIL_DEFAULT_SENDER: 'login@login.test',
    MAIL_TIMEOUT_MS: '3000',
    RATE_LIMIT_PER_IP_PER_MINUTE: '100000',
    // Tests run the cleanup themselves; a scheduled run in the middle would take their counts.
    CLEANUP_CRON: '0 0 1 1 *',
    LOG_LEVEL: 'silent',
  };
  if (backend === 'sqlite-memory') {
    const dir = mkdtempSync(join(tmpdir(), 'otp-test-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return { ...env, DATABASE_URL: `sqlite:${join(dir, 'app.sqlite')}`, OTP_STORE: 'memory' };
  }
  const database = await createTestDatabase('e2e');
  cleanups.push(database.drop);
  const keyPrefix = `test:${randomBytes(4).toString('hex')}:`;
  // A test's own cluster is thrown away with its keys; the shared Redis is cleaned by prefix.
  if (redisClusterNodes)
    return {
      ...env,
      DATABASE_URL: database.url,
      REDIS_CLUSTER_NODES: redisClusterNodes,
      REDIS_KEY_PREFIX: keyPrefix,
      OTP_STORE: 'redis',
    };
  cleanups.push(() => deleteKeys(keyPrefix));
  return {
    ...env,
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: keyPrefix,
    OTP_STORE: 'redis',
  };
}

async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}
