import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './app-config';

const PRODUCTION = {
  NODE_ENV: 'production',
  SECRET_KEY: 'k'.repeat(48),
  JWT_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----',
  MAIL_SERVER: 'smtp.example.com',
};

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadConfig', () => {
  it('retries webhooks on the Standard Webhooks schedule, or on one compressed for tests', () => {
    expect(loadConfig({}).webhooks).toEqual({
      allowPrivate: false,
      retryDelaysMs: [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
      timeoutMs: 10_000,
      pollMs: 1000,
    });
    expect(loadConfig({ WEBHOOK_RETRY_DELAYS: '5ms, 300ms,2s', WEBHOOK_ALLOW_PRIVATE: 'true' }).webhooks).toEqual(
      expect.objectContaining({ allowPrivate: true, retryDelaysMs: [5, 300, 2000] }),
    );
    expect(refusal({ WEBHOOK_RETRY_DELAYS: '31s,1h' })).toBe('WEBHOOK_RETRY_DELAYS must retry first within 30s');
    expect(refusal({ WEBHOOK_RETRY_DELAYS: '5s,soon' })).toContain('WEBHOOK_RETRY_DELAYS must list durations');
    expect(refusal({ ...PRODUCTION, WEBHOOK_RETRY_DELAYS: '5s,5m,23h' })).toBe(
      'WEBHOOK_RETRY_DELAYS must keep retrying for at least 24h in production',
    );
  });

  it('runs on the embedded default with nothing set', () => {
    const config = loadConfig({});
    expect(config.env).toBe('development');
    expect(config.database).toEqual({ type: 'sqlite', path: './data/app.sqlite' });
    expect(config.redis).toBeUndefined();
    expect(config.mail.server).toBeUndefined();
    expect(config.otp).toEqual({
      ttlSeconds: 300,
      length: 6,
      maxAttempts: 5,
      maxLiveCodes: 3,
      maxFailedPerAddress: 20,
      failedWindowSeconds: 86400,
      resendCooldownSeconds: 60,
      maxPerHour: 5,
    });
    expect(config.secretKey.length).toBeGreaterThanOrEqual(32);
    expect(config.jwt.issuer).toBe('http://localhost:3000');
    expect(config.redisFallback).toBe('memory');
  });

  it('accepts FLASK_ENV as an alias of NODE_ENV', () => {
    expect(
      loadConfig({
        FLASK_ENV: 'production',
        SECRET_KEY: 'k'.repeat(48),
        JWT_PRIVATE_KEY: 'x',
        MAIL_SERVER: 'smtp.example.com',
      }).env,
    ).toBe('production');
  });

  it.each([
    [{ OTP_TTL_SECONDS: '601' }, 'OTP_TTL_SECONDS must be between 1 and 600'],
    [{ OTP_TTL_SECONDS: 'ten' }, 'OTP_TTL_SECONDS must be a whole number'],
    [{ OTP_LENGTH: '5' }, 'OTP_LENGTH must be between 6 and 10'],
    [{ OTP_RESEND_COOLDOWN_SECONDS: '3601' }, 'OTP_RESEND_COOLDOWN_SECONDS'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ OTP_STORE: 'redis' }, 'OTP_STORE'],
    [
      { REDIS_CLUSTER_NODES: 'a:1,b:port' },
      'REDIS_CLUSTER_NODES must be a comma separated list of host:port, got "b:port"',
    ],
    [{ REDIS_CLUSTER_NODES: 'a:70000' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: 'rediss://a:1,redis://b:2' }, 'REDIS_CLUSTER_NODES must use one scheme'],
    [{ REDIS_CLUSTER_NODES: 'redis://a:1/2' }, 'REDIS_CLUSTER_NODES must list nodes without a database'],
    [{ REDIS_CLUSTER_NODES: 'a:1', REDIS_DB: '2' }, 'REDIS_DB must be 0 with REDIS_CLUSTER_NODES'],
    [
      { REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm' },
      'REDIS_SENTINELS cannot be combined',
    ],
    [{ REDIS_SENTINELS: 's1:26379' }, 'REDIS_SENTINEL_NAME is required with REDIS_SENTINELS'],
    [{ REDIS_SENTINEL_NAME: 'mymaster' }, 'REDIS_SENTINEL_NAME is set but REDIS_SENTINELS is not'],
    [{ REDIS_SENTINELS: 's1:x', REDIS_SENTINEL_NAME: 'mymaster' }, 'REDIS_SENTINELS must be a comma separated list'],
    [{ OTP_STORE: 'disk' }, 'OTP_STORE must be one of'],
    [{ MAIL_USE_TLS: 'maybe' }, 'MAIL_USE_TLS must be true or false'],
    [{ MAIL_LOCALES: 'english' }, 'MAIL_LOCALES'],
    [{ PUBLIC_URL: 'ftp://x' }, 'PUBLIC_URL'],
    [{ CLEANUP_CRON: 'every minute' }, 'CLEANUP_CRON'],
    [{ TRUST_PROXY: 'sometimes' }, 'TRUST_PROXY'],
    [{ SECRET_KEY: 'your-secret-key-here' }, 'SECRET_KEY is a placeholder'],
    [{ SECRET_KEY: 'short' }, 'SECRET_KEY must be at least 16 bytes'],
    [{ SECRET_KEY_PREVIOUS: `${'a'.repeat(32)},short` }, 'SECRET_KEY_PREVIOUS must list earlier SECRET_KEY values'],
  ])('refuses %j naming the variable', (env, message) => {
    expect(refusal(env)).toContain(message);
  });

  it.each([
    [{ ...PRODUCTION, SECRET_KEY: undefined }, 'SECRET_KEY is required in production'],
    [{ ...PRODUCTION, SECRET_KEY: 'k'.repeat(20) }, 'SECRET_KEY must be at least 32 bytes'],
    [{ ...PRODUCTION, SECRET_KEY: 'changeme' }, 'SECRET_KEY is a placeholder'],
    [{ ...PRODUCTION, JWT_PRIVATE_KEY: undefined }, 'JWT_PRIVATE_KEY is required in production'],
  ])('is strict in production: %j', (env, message) => {
    expect(refusal(env as Record<string, string>)).toContain(message);
  });

  it('defaults to failing closed on a Redis outage in production', () => {
    expect(loadConfig(PRODUCTION).redisFallback).toBe('fail');
  });

  it('reads the earlier SECRET_KEYs that still verify audit seals', () => {
    const [older, old] = ['o'.repeat(32), 'p'.repeat(32)];
    expect(loadConfig({ SECRET_KEY_PREVIOUS: ` ${old}, ${older} ` }).previousSecretKeys.map(String)).toEqual([
      old,
      older,
    ]);
    expect(loadConfig({}).previousSecretKeys).toEqual([]);
  });

  it('reads the original service variables', () => {
    const config = loadConfig({
      MAIL_SERVER: 'smtp.example.com',
      MAIL_PORT: '587',
      MAIL_USE_TLS: 'True',
      MAIL_USERNAME: 'user',
      MAIL_PASSWORD: 'pass',
      MAIL_DEFAULT_SENDER: 'Login <login@example.com>',
      REDIS_HOST: 'cache',
      REDIS_PORT: '6380',
      REDIS_DB: '2',
      ADMIN_EMAILS: ' Admin@Example.com, ops@example.com ,',
      TRUST_PROXY: '10.0.0.0/8, 192.168.1.1',
    });
    expect(config.mail).toMatchObject({
      server: 'smtp.example.com',
      port: 587,
      useTls: true,
      username: 'user',
      defaultSender: 'Login <login@example.com>',
    });
    expect(config.redis).toMatchObject({ host: 'cache', port: 6380, db: 2 });
    expect(config.adminEmails).toEqual(['admin@example.com', 'ops@example.com']);
    expect(config.http.trustProxy).toBe('10.0.0.0/8,192.168.1.1');
  });

  describe('Redis topology', () => {
    it('reads a cluster seed list, which takes precedence over REDIS_URL and REDIS_HOST', () => {
      const config = loadConfig({
        REDIS_CLUSTER_NODES: ' 10.0.0.1:7000, cache-2:7001 ,[::1]:7002,cache-3',
        REDIS_URL: 'redis://single:6379/3',
        REDIS_HOST: 'other',
        REDIS_PASSWORD: 'pw',
        REDIS_KEY_PREFIX: 'app:',
      });
      expect(config.redis).toMatchObject({
        password: 'pw',
        keyPrefix: 'app:',
        cluster: {
          nodes: [
            { host: '10.0.0.1', port: 7000 },
            { host: 'cache-2', port: 7001 },
            { host: '::1', port: 7002 },
            { host: 'cache-3', port: 6379 },
          ],
          tls: false,
        },
      });
      expect(config.redis?.sentinel).toBeUndefined();
    });

    it('turns TLS on for rediss:// seed nodes and takes the credentials from the URL', () => {
      const config = loadConfig({
        REDIS_CLUSTER_NODES: 'rediss://app:s%40cret@clustercfg.example.com:6380',
        REDIS_PASSWORD: 'ignored',
      });
      expect(config.redis).toMatchObject({
        password: 's@cret',
        cluster: { nodes: [{ host: 'clustercfg.example.com', port: 6380 }], tls: true, username: 'app' },
      });
    });

    it('reads Sentinels with the master name, their own password and the database', () => {
      const config = loadConfig({
        REDIS_SENTINELS: 's1:26379,s2,s3:26380',
        REDIS_SENTINEL_NAME: 'mymaster',
        REDIS_SENTINEL_PASSWORD: 'sentinel-pw',
        REDIS_PASSWORD: 'master-pw',
        REDIS_DB: '3',
      });
      expect(config.redis).toMatchObject({
        password: 'master-pw',
        db: 3,
        sentinel: {
          nodes: [
            { host: 's1', port: 26379 },
            { host: 's2', port: 26379 },
            { host: 's3', port: 26380 },
          ],
          name: 'mymaster',
          password: 'sentinel-pw',
        },
      });
      expect(config.redis?.cluster).toBeUndefined();
    });

    it('keeps a plain REDIS_URL a single Redis', () => {
      expect(loadConfig({ REDIS_URL: 'rediss://default:pw@cache.example.com:6380/0' }).redis).toMatchObject({
        url: 'rediss://default:pw@cache.example.com:6380/0',
        cluster: undefined,
        sentinel: undefined,
      });
    });
  });
});

describe('TRUST_PROXY', () => {
  it.each(['true', 'TRUE', 'yes', 'on'])(
    'refuses %j, which would let any client pick its own IP, in one line naming it',
    (value) => {
      const message = refusal({ TRUST_PROXY: value });
      expect(message).toMatch(/^TRUST_PROXY /);
      expect(message).not.toContain('\n');
    },
  );
});

describe('mail configuration', () => {
  it.each([undefined, '', '  '])(
    'refuses to start in production with MAIL_SERVER %j, in one line naming it',
    (server) => {
      const message = refusal({ ...PRODUCTION, MAIL_SERVER: server } as Record<string, string>);
      expect(message).toMatch(/^MAIL_SERVER is required in production/);
      expect(message).not.toContain('\n');
    },
  );

  it('keeps the development mailbox outside production', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).mail.server).toBeUndefined();
  });

  it.each([
    ['login@example.com', 'login@example.com'],
    ['no-reply@localhost', 'no-reply@localhost'],
    ['"Bücher & Co., Anmeldung" <login@example.com>', '"Bücher & Co., Anmeldung" <login@example.com>'],
    ['Ops (login) <login@bücher.de>', 'Ops (login) <login@bücher.de>'],
  ])('takes MAIL_DEFAULT_SENDER %j', (value, sender) => {
    expect(loadConfig({ MAIL_DEFAULT_SENDER: value }).mail.defaultSender).toBe(sender);
  });

  it.each([
    'nobody',
    'a@example.com, b@example.com',
    'Name <nobody>',
    '"Unclosed <login@example.com>',
    'Two <a@example.com> <b@example.com>',
    'login@example.com\nBcc: x@example.com',
  ])('refuses MAIL_DEFAULT_SENDER %j in one line naming it', (value) => {
    const message = refusal({ MAIL_DEFAULT_SENDER: value });
    expect(message).toMatch(/^MAIL_DEFAULT_SENDER must be/);
    expect(message).not.toContain('\n');
  });
});

describe('the development SECRET_KEY', () => {
  const startedIn = process.cwd();
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'secret-key-'));
    process.chdir(dir);
  });
  afterEach(() => {
    process.chdir(startedIn);
    rmSync(dir, { recursive: true, force: true });
  });

  it('is generated once into ./data, readable by its owner only, and the same on every later load', () => {
    const first = loadConfig({}).secretKey;
    const second = loadConfig({ NODE_ENV: 'test' }).secretKey;

    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(second.equals(first)).toBe(true);
    expect(statSync(join(dir, 'data', 'secret-key')).mode & 0o777).toBe(0o600);
  });

  it('is never generated in production', () => {
    const withoutKey = Object.fromEntries(Object.entries(PRODUCTION).filter(([name]) => name !== 'SECRET_KEY'));
    expect(refusal(withoutKey)).toMatch(/^SECRET_KEY is required in production/);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('refuses a key file it did not write, in one line naming SECRET_KEY', () => {
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'secret-key'), 'short\n');
    const message = refusal({});
    expect(message).toMatch(/^SECRET_KEY is unset and/);
    expect(message).not.toContain('\n');
  });
});
