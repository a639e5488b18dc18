import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isMailbox } from './mailbox';
import { ConfigError, EnvReader } from './env-reader';

export { ConfigError } from './env-reader';

export type NodeEnv = 'development' | 'production' | 'test';
export type DatabaseConfig = { type: 'postgres'; url: string } | { type: 'sqlite'; path: string };

export interface RedisNode {
  host: string;
  port: number;
}

export interface RedisConfig {
  url?: string;
  host: string;
  port: number;
  password?: string;
  db: number;
  keyPrefix: string;
  commandTimeoutMs: number;
  /** Set: a Redis Cluster found through these seed nodes; url, host, port and db are not used. */
  cluster?: { nodes: RedisNode[]; tls: boolean; username?: string };
  /** Set: the master called `name`, found through these Sentinels; url, host and port are not used. */
  sentinel?: { nodes: RedisNode[]; name: string; password?: string };
}

export interface OtpConfig {
  ttlSeconds: number;
  length: number;
  maxAttempts: number;
  maxLiveCodes: number;
  maxFailedPerAddress: number;
  failedWindowSeconds: number;
  resendCooldownSeconds: number;
  maxPerHour: number;
}

export interface MailConfig {
  /** Unset: the development mailbox. */
  server?: string;
  port: number;
  useTls: boolean;
  useSsl: boolean;
  username?: string;
  password?: string;
  defaultSender: string;
  timeoutMs: number;
  locales: string[];
  outboxDir: string;
}

export interface JwtConfig {
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  sessionMaxAgeSeconds: number;
  /** Two refreshes of one token this close together are one client racing itself, not reuse. */
  refreshGraceSeconds: number;
  /** PEM or JWK text from JWT_PRIVATE_KEY. */
  privateKeyText?: string;
  /** PEM from JWT_RSA_PRIVATE_KEY: signs the ID tokens of clients registered for RS256. */
  rsaPrivateKeyText?: string;
  keysDir: string;
  /** Development only: create the keys in keysDir when none is configured. */
  generateMissingKey: boolean;
}

export interface WebhooksConfig {
  /** WEBHOOK_ALLOW_PRIVATE: lifts the address rule only (loopback, private, link-local, metadata). */
  allowPrivate: boolean;
  /** WEBHOOK_RETRY_DELAYS: the wait before each retry after a failed attempt; then the delivery is given up. */
  retryDelaysMs: number[];
  /** WEBHOOK_TIMEOUT_MS: how long a receiver has to answer. */
  timeoutMs: number;
  /** WEBHOOK_POLL_MS: how often the delivering instance looks for events and due retries. */
  pollMs: number;
}

export interface AppConfig {
  env: NodeEnv;
  http: { port: number; host: string; trustProxy: false | number | string; publicUrl: string; corsOrigins: string[] };
  /** Keys every HMAC of the service (codes, address tags, refresh tokens, cookies). */
  secretKey: Buffer;
  /** Earlier values of SECRET_KEY: what they sealed in the audit trail still verifies. */
  previousSecretKeys: Buffer[];
  database: DatabaseConfig;
  databaseMigrate: boolean;
  redis?: RedisConfig;
  redisFallback: 'memory' | 'fail';
  otpStore: 'auto' | 'redis' | 'memory';
  /** Addresses the memory store holds at most; beyond that new logins get 503. */
  memoryStoreMaxEntries: number;
  otp: OtpConfig;
  /** Per client IP and minute: `otp` is one budget shared by the OTP endpoints, `global` covers every route. */
  rateLimit: { otpPerIpPerMinute: number; globalPerIpPerMinute: number };
  mail: MailConfig;
  jwt: JwtConfig;
  /** The OpenID Provider's issuer identifier (OIDC_ISSUER), without a trailing slash. */
  oidcIssuer: string;
  adminEmails: string[];
  cleanupCron: string;
  auditRetentionDays: number;
  /** How recent a code sign-in must be to change the address or delete the account. */
  accountReauthSeconds: number;
  webhooks: WebhooksConfig;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

const PLACEHOLDER_SECRETS =
  /^(your[-_ ]?secret[-_ ]?key[-_ ]?here|change[-_ ]?me|changeme|secret|placeholder|example|default|xxx+|test)$/i;
const CRON_FIELD = /^[\d*/,\-A-Za-z?LW#]+$/;

/**
 * Reads and validates the whole environment once. Throws ConfigError naming the first bad
 * variable. The server calls it through ConfigModule's validate hook (app-config.module.ts);
 * nothing else in the service reads process.env.
 */
export function loadConfig(source: NodeJS.ProcessEnv): AppConfig {
  const env = new EnvReader(source);
  const nodeEnv = env.oneOf('NODE_ENV', ['development', 'production', 'test'], env.raw('FLASK_ENV') ?? 'development');
  const production = nodeEnv === 'production';

  const publicUrl = env.url('PUBLIC_URL', 'http://localhost:3000').replace(/\/+$/, '');

  return {
    env: nodeEnv,
    http: {
      port: env.int('PORT', 3000, 0, 65535),
      host: env.string('HOST', '0.0.0.0'),
      trustProxy: readTrustProxy(env),
      publicUrl,
      corsOrigins: env
        .string('CORS_ORIGINS', '')
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean)
        .map((origin) => {
          if (!/^https?:\/\/[^/\s]+$/.test(origin))
            throw new ConfigError('CORS_ORIGINS', `must list origins such as https://app.example.com, got "${origin}"`);
          return origin;
        }),
    },
    secretKey: readSecretKey(env, production),
    previousSecretKeys: readPreviousSecretKeys(env),
    database: readDatabase(env),
    databaseMigrate: env.bool('DATABASE_MIGRATE', true),
    redis: readRedis(env),
    redisFallback: env.oneOf('REDIS_FALLBACK', ['memory', 'fail'], production ? 'fail' : 'memory'),
    otpStore: env.oneOf('OTP_STORE', ['auto', 'redis', 'memory'], 'auto'),
    memoryStoreMaxEntries: env.int('OTP_MEMORY_MAX_ENTRIES', 100_000, 1, 100_000_000),
    otp: {
      ttlSeconds: env.int('OTP_TTL_SECONDS', 300, 1, 600),
      length: env.int('OTP_LENGTH', 6, 6, 10),
      maxAttempts: env.int('OTP_MAX_ATTEMPTS', 5, 1, 100),
      maxLiveCodes: env.int('OTP_MAX_LIVE_CODES', 3, 1, 10),
      // NIST SP 800-63B: at most 100 failed attempts in a row.
      maxFailedPerAddress: env.int('OTP_MAX_FAILED_PER_ADDRESS', 20, 1, 100),
      failedWindowSeconds: env.int('OTP_FAILED_WINDOW_SECONDS', 86_400, 1, 31_536_000),
      resendCooldownSeconds: env.int('OTP_RESEND_COOLDOWN_SECONDS', 60, 0, 3600),
      maxPerHour: env.int('OTP_MAX_PER_HOUR', 5, 1, 1_000_000),
    },
    rateLimit: readRateLimits(env),
    mail: readMail(env, production),
    jwt: {
      issuer: env.string('JWT_ISSUER', publicUrl),
      audience: env.string('JWT_AUDIENCE', publicUrl),
      accessTtlSeconds: env.int('JWT_ACCESS_TTL_SECONDS', 900, 30, 86_400),
      refreshTtlSeconds: env.int('JWT_REFRESH_TTL_SECONDS', 2_592_000, 60, 31_536_000),
      sessionMaxAgeSeconds: env.int('JWT_SESSION_MAX_AGE_SECONDS', 7_776_000, 60, 315_360_000),
      refreshGraceSeconds: env.int('JWT_REFRESH_GRACE_SECONDS', 10, 0, 60),
      privateKeyText: readPrivateKeyText(env, production),
      rsaPrivateKeyText: env.raw('JWT_RSA_PRIVATE_KEY')?.replace(/\\n/g, '\n'),
      keysDir: env.string('JWT_KEYS_DIR', './data/keys'),
      generateMissingKey: !production && !env.has('JWT_KEYS_DIR'),
    },
    oidcIssuer: env.url('OIDC_ISSUER', publicUrl).replace(/\/+$/, ''),
    adminEmails: env
      .string('ADMIN_EMAILS', '')
      .split(',')
      .map((address) => address.trim().toLowerCase())
      .filter(Boolean),
    cleanupCron: env.matching('CLEANUP_CRON', '0 * * * * *', isCronExpression, 'a cron expression with 5 or 6 fields'),
    auditRetentionDays: env.int('AUDIT_RETENTION_DAYS', 365, 1, 36_500),
    accountReauthSeconds: env.int('ACCOUNT_REAUTH_SECONDS', 600, 1, 86_400),
    webhooks: readWebhooks(env, production),
    logLevel: env.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
  };
}

/** The Standard Webhooks schedule: retries 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after each failure (27.6 h). */
const DEFAULT_RETRY_DELAYS = '5s,5m,30m,2h,5h,10h,10h';
const DURATION = /^(\d+)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DAY_MS = 86_400_000;

function readWebhooks(env: EnvReader, production: boolean): WebhooksConfig {
  const retryDelaysMs = env
    .string('WEBHOOK_RETRY_DELAYS', DEFAULT_RETRY_DELAYS)
    .split(',')
    .map((item) => {
      const match = DURATION.exec(item.trim());
      if (!match)
        throw new ConfigError('WEBHOOK_RETRY_DELAYS', `must list durations such as 5s,5m,2h, got "${item.trim()}"`);
      return Number(match[1]) * UNIT_MS[match[2]];
    });
  if (retryDelaysMs[0] > 30_000) throw new ConfigError('WEBHOOK_RETRY_DELAYS', 'must retry first within 30s');
  if (production && retryDelaysMs.reduce((sum, delay) => sum + delay, 0) < DAY_MS)
    throw new ConfigError('WEBHOOK_RETRY_DELAYS', 'must keep retrying for at least 24h in production');
  return {
    allowPrivate: env.bool('WEBHOOK_ALLOW_PRIVATE', false),
    retryDelaysMs,
    timeoutMs: env.int('WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000),
    pollMs: env.int('WEBHOOK_POLL_MS', 1000, 10, 60_000),
  };
}

function readRateLimits(env: EnvReader): AppConfig['rateLimit'] {
  const otpPerIpPerMinute = env.int('RATE_LIMIT_PER_IP_PER_MINUTE', 30, 1, 1_000_000_000);
  // Every route shares a looser budget; by default it scales with the OTP one, so raising
  // RATE_LIMIT_PER_IP_PER_MINUTE (a load test from one IP) raises both.
  const globalPerIpPerMinute = env.int(
    'RATE_LIMIT_GLOBAL_PER_IP_PER_MINUTE',
    Math.max(600, otpPerIpPerMinute * 20),
    1,
    1_000_000_000_000,
  );
  return { otpPerIpPerMinute, globalPerIpPerMinute };
}

function readSecretKey(env: EnvReader, production: boolean): Buffer {
  const value = env.raw('SECRET_KEY');
  if (value === undefined) {
    if (production) throw new ConfigError('SECRET_KEY', 'is required in production (at least 32 bytes of random text)');
    return developmentSecretKey(DEVELOPMENT_SECRET_KEY_FILE);
  }
  if (PLACEHOLDER_SECRETS.test(value.trim()))
    throw new ConfigError('SECRET_KEY', 'is a placeholder; generate one with `openssl rand -hex 32`');
  if (production && Buffer.byteLength(value) < 32)
    throw new ConfigError('SECRET_KEY', 'must be at least 32 bytes in production');
  if (Buffer.byteLength(value) < 16) throw new ConfigError('SECRET_KEY', 'must be at least 16 bytes');
  return Buffer.from(value, 'utf8');
}

/** Comma-separated; each was a SECRET_KEY, so the same length rule applies. */
function readPreviousSecretKeys(env: EnvReader): Buffer[] {
  const keys = (env.raw('SECRET_KEY_PREVIOUS') ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean);
  if (keys.some((key) => Buffer.byteLength(key) < 16))
    throw new ConfigError(
      'SECRET_KEY_PREVIOUS',
      'must list earlier SECRET_KEY values (each at least 16 bytes), comma-separated',
    );
  return keys.map((key) => Buffer.from(key, 'utf8'));
}

const DEVELOPMENT_SECRET_KEY_FILE = './data/secret-key';

/**
 * Without SECRET_KEY outside production: 32 random bytes, generated once into `file` and reused,
 * so a restart can still verify the audit seals. Written as hex, the file's text also works as
 * SECRET_KEY. Processes starting together may race to create it: each writes its own candidate
 * and links it into place, and the first link wins.
 */
function developmentSecretKey(file: string): Buffer {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const candidate = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(candidate, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    try {
      linkSync(candidate, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(candidate);
    }
  }
  const text = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(text))
    throw new ConfigError(
      'SECRET_KEY',
      `is unset and ${file} does not hold a generated key (64 hex digits): delete the file or set SECRET_KEY`,
    );
  return Buffer.from(text, 'utf8');
}

/** Only the database settings: what the TypeORM CLI needs to migrate, without the service's secrets. */
export function loadDatabaseConfig(source: NodeJS.ProcessEnv): DatabaseConfig {
  return readDatabase(new EnvReader(source));
}

function readDatabase(env: EnvReader): DatabaseConfig {
  const url = env.string('DATABASE_URL', 'sqlite:./data/app.sqlite');
  if (/^postgres(ql)?:\/\//.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new ConfigError('DATABASE_URL', 'is not a valid postgres:// URL');
    }
    return { type: 'postgres', url };
  }
  const sqlite = /^sqlite:(?:\/\/)?(.+)$/.exec(url);
  if (sqlite) return { type: 'sqlite', path: sqlite[1] };
  throw new ConfigError('DATABASE_URL', 'must start with postgres:// or sqlite:');
}

/** Which Redis: REDIS_CLUSTER_NODES, else REDIS_SENTINELS, else REDIS_URL, else REDIS_HOST; unset: none. */
function readRedis(env: EnvReader): RedisConfig | undefined {
  const url = env.raw('REDIS_URL');
  if (url !== undefined && !/^rediss?:\/\//.test(url))
    throw new ConfigError('REDIS_URL', 'must start with redis:// or rediss://');
  const host = env.raw('REDIS_HOST');
  const cluster = readRedisCluster(env);
  const sentinel = readRedisSentinel(env);
  if (cluster && sentinel)
    throw new ConfigError('REDIS_SENTINELS', 'cannot be combined with REDIS_CLUSTER_NODES; set one of them');
  if (!cluster && !sentinel && url === undefined && host === undefined) {
    if (env.raw('OTP_STORE') === 'redis')
      throw new ConfigError(
        'OTP_STORE',
        'is redis but none of REDIS_CLUSTER_NODES, REDIS_SENTINELS, REDIS_URL or REDIS_HOST is set',
      );
    return undefined;
  }
  const db = env.int('REDIS_DB', 0, 0, 15);
  if (cluster && db !== 0)
    throw new ConfigError('REDIS_DB', 'must be 0 with REDIS_CLUSTER_NODES: a cluster has only database 0');
  return {
    url,
    host: host ?? '127.0.0.1',
    port: env.int('REDIS_PORT', 6379, 1, 65535),
    password: cluster?.password ?? env.raw('REDIS_PASSWORD'),
    db,
    keyPrefix: env.matching(
      'REDIS_KEY_PREFIX',
      'otp:',
      (v) => /^[\w:.-]{1,64}$/.test(v),
      'letters, digits and : . - _',
    ),
    commandTimeoutMs: env.int('REDIS_TIMEOUT_MS', 1000, 50, 60_000),
    cluster: cluster && { nodes: cluster.nodes, tls: cluster.tls, username: cluster.username },
    sentinel,
  };
}

/**
 * REDIS_CLUSTER_NODES: comma separated seed nodes, `host:port`, or `redis://` / `rediss://` URLs
 * (rediss: TLS to every node; user and password in the URL override REDIS_PASSWORD).
 */
function readRedisCluster(
  env: EnvReader,
): { nodes: RedisNode[]; tls: boolean; username?: string; password?: string } | undefined {
  const entries = env
    .raw('REDIS_CLUSTER_NODES')
    ?.split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (!entries?.length) return undefined;
  const schemes = new Set(entries.map((entry) => /^(rediss?):\/\//.exec(entry)?.[1] ?? 'redis'));
  if (schemes.size > 1)
    throw new ConfigError('REDIS_CLUSTER_NODES', 'must use one scheme for every node (all rediss:// or none)');
  let username: string | undefined;
  let password: string | undefined;
  const nodes = entries.map((entry) => {
    if (!/^rediss?:\/\//.test(entry)) return parseNode('REDIS_CLUSTER_NODES', entry, 6379);
    let parsed: URL;
    try {
      parsed = new URL(entry);
      username ??= decodeURIComponent(parsed.username) || undefined;
      password ??= decodeURIComponent(parsed.password) || undefined;
    } catch {
      throw new ConfigError('REDIS_CLUSTER_NODES', `has an invalid URL "${redactUrl(entry)}"`);
    }
    if (parsed.pathname.replace(/^\/$/, '') !== '' || parsed.search)
      throw new ConfigError(
        'REDIS_CLUSTER_NODES',
        `must list nodes without a database or options, got "${redactUrl(entry)}"`,
      );
    return parseNode('REDIS_CLUSTER_NODES', `${parsed.hostname}:${parsed.port || 6379}`, 6379);
  });
  return { nodes, tls: schemes.has('rediss'), username, password };
}

function readRedisSentinel(env: EnvReader): RedisConfig['sentinel'] {
  const entries = env
    .raw('REDIS_SENTINELS')
    ?.split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (!entries?.length) {
    if (env.has('REDIS_SENTINEL_NAME'))
      throw new ConfigError('REDIS_SENTINEL_NAME', 'is set but REDIS_SENTINELS is not');
    return undefined;
  }
  const name = env.raw('REDIS_SENTINEL_NAME')?.trim();
  if (name === undefined)
    throw new ConfigError(
      'REDIS_SENTINEL_NAME',
      'is required with REDIS_SENTINELS (the name of the monitored master, e.g. mymaster)',
    );
  if (!/^\S{1,128}$/.test(name))
    throw new ConfigError('REDIS_SENTINEL_NAME', `must be a master name without spaces, got "${name}"`);
  return {
    nodes: entries.map((entry) => parseNode('REDIS_SENTINELS', entry, 26379)),
    name,
    password: env.raw('REDIS_SENTINEL_PASSWORD'),
  };
}

/** `host`, `host:port` or `[ipv6]:port`. */
function parseNode(variable: string, entry: string, defaultPort: number): RedisNode {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([\w.-]+))(?::(\d{1,5}))?$/.exec(entry);
  const port = match?.[3] === undefined ? defaultPort : Number(match[3]);
  if (!match || port < 1 || port > 65535)
    throw new ConfigError(variable, `must be a comma separated list of host:port, got "${entry}"`);
  return { host: match[1] ?? match[2], port };
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

function readMail(env: EnvReader, production: boolean): MailConfig {
  const useSsl = env.bool('MAIL_USE_SSL', false);
  const server = env.raw('MAIL_SERVER');
  if (production && !server)
    throw new ConfigError(
      'MAIL_SERVER',
      'is required in production: without it every code would go to the log and ./data/outbox',
    );
  return {
    server: server || undefined,
    port: env.int('MAIL_PORT', useSsl ? 465 : 25, 1, 65535),
    useTls: env.bool('MAIL_USE_TLS', false),
    useSsl,
    username: env.raw('MAIL_USERNAME'),
    password: env.raw('MAIL_PASSWORD'),
    defaultSender: env.matching(
      'MAIL_DEFAULT_SENDER',
      'no-reply@localhost',
      (v) => !/[\r\n]/.test(v) && isMailbox(v),
      'an address (optionally "Name <address>") on one line',
    ),
    timeoutMs: env.int('MAIL_TIMEOUT_MS', 10_000, 100, 120_000),
    locales: env
      .matching(
        'MAIL_LOCALES',
        'en',
        (v) => /^[a-z]{2}(-[A-Za-z]{2})?(,\s*[a-z]{2}(-[A-Za-z]{2})?)*$/.test(v),
        'comma separated language tags such as en,de',
      )
      .split(',')
      .map((locale) => locale.trim()),
    outboxDir: env.string('MAIL_OUTBOX_DIR', './data/outbox'),
  };
}

function readPrivateKeyText(env: EnvReader, production: boolean): string | undefined {
  const text = env.raw('JWT_PRIVATE_KEY');
  if (production && text === undefined && !env.has('JWT_KEYS_DIR')) {
    throw new ConfigError('JWT_PRIVATE_KEY', 'is required in production (or JWT_KEYS_DIR with at least one key)');
  }
  // .env files often carry a PEM on one line with literal "\n".
  return text?.replace(/\\n/g, '\n');
}

/** `true` would trust whatever X-Forwarded-For a client sends, so any client could pick its own IP. */
function readTrustProxy(env: EnvReader): false | number | string {
  const value = env.raw('TRUST_PROXY');
  if (value === undefined || /^(false|0|no|off)$/i.test(value)) return false;
  if (/^\d+$/.test(value)) return Number(value);
  const entries = value.split(',').map((entry) => entry.trim());
  if (entries.every((entry) => /^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(entry))) return entries.join(',');
  throw new ConfigError(
    'TRUST_PROXY',
    'must be false, a hop count or a comma separated list of proxy IPs/CIDRs (true, trusting any sender, is refused)',
  );
}

function isCronExpression(value: string): boolean {
  const fields = value.trim().split(/\s+/);
  return (fields.length === 5 || fields.length === 6) && fields.every((field) => CRON_FIELD.test(field));
}
