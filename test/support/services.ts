import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Client } from 'pg';
import Redis from 'ioredis';

/** Where the real services of the integration suites live; override with these variables. */
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** `redis-server`: the redis-server and redis-cli binaries, for suites that start Redis processes of their own. */
export type Service = 'postgres' | 'redis' | 'chromium' | 'redis-server';

export async function probeChromium(): Promise<string | null> {
  return existsSync(CHROMIUM_PATH) ? null : `Chromium not found at ${CHROMIUM_PATH} (apt-get install chromium)`;
}

export async function probePostgres(): Promise<string | null> {
  const client = new Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return `PostgreSQL not reachable at ${redact(TEST_POSTGRES_URL)}: ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function probeRedis(): Promise<string | null> {
  const redis = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (error) {
    return `Redis not reachable at ${redact(TEST_REDIS_URL)}: ${(error as Error).message}`;
  } finally {
    redis.disconnect();
  }
}

/** redis-server and redis-cli 5 or newer (`redis-cli --cluster create` came with 5). */
export async function probeRedisBinaries(): Promise<string | null> {
  for (const binary of ['redis-server', 'redis-cli']) {
    const run = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 5000 });
    if (run.error || run.status !== 0)
      return `${binary} not found on PATH (apt-get install redis-server): ${run.error?.message ?? run.stderr.trim()}`;
    const major = Number(/\b(?:v=)?(\d+)\.\d+\.\d+/.exec(run.stdout)?.[1]);
    if (!(major >= 5)) return `${binary} 5 or newer is needed for a Redis Cluster, got "${run.stdout.trim()}"`;
  }
  return null;
}

/** The variable the global setup leaves for a service, e.g. TEST_HAS_REDIS_SERVER. */
export function availabilityVariable(service: Service): string {
  return `TEST_HAS_${service.toUpperCase().replace(/-/g, '_')}`;
}

/** Set by the global setup: which services this run has. */
export function available(service: Service): boolean {
  return process.env[availabilityVariable(service)] === '1';
}

/**
 * `describe` when every service is there, else a skipped block whose title says why. In CI the
 * global setup has already failed the run instead.
 */
export function describeWith(services: Service[], title: string, body: () => void): void {
  const missing = services.filter((service) => !available(service));
  const block = missing.length === 0 ? describe : describe.skip;
  block(missing.length === 0 ? title : `${title} [SKIPPED: no ${missing.join(', ')}]`, body);
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}
