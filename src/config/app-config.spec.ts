import { ConfigError, loadConfig } from './app-config';

const PRODUCTION = {
  NODE_ENV: 'production',
  SECRET_KEY: 'k'.repeat(48),
  JWT_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----',
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
    expect(loadConfig({ FLASK_ENV: 'production', SECRET_KEY: 'k'.repeat(48), JWT_PRIVATE_KEY: 'x' }).env).toBe('production');
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
    [{ OTP_STORE: 'disk' }, 'OTP_STORE must be one of'],
    [{ MAIL_USE_TLS: 'maybe' }, 'MAIL_USE_TLS must be true or false'],
    [{ MAIL_LOCALES: 'english' }, 'MAIL_LOCALES'],
    [{ PUBLIC_URL: 'ftp://x' }, 'PUBLIC_URL'],
    [{ CLEANUP_CRON: 'every minute' }, 'CLEANUP_CRON'],
    [{ TRUST_PROXY: 'sometimes' }, 'TRUST_PROXY'],
    [{ SECRET_KEY: 'your-secret-key-here' }, 'SECRET_KEY is a placeholder'],
    [{ SECRET_KEY: 'short' }, 'SECRET_KEY must be at least 16 bytes'],
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
    expect(config.mail).toMatchObject({ server: 'smtp.example.com', port: 587, useTls: true, username: 'user', defaultSender: 'Login <login@example.com>' });
    expect(config.redis).toMatchObject({ host: 'cache', port: 6380, db: 2 });
    expect(config.adminEmails).toEqual(['admin@example.com', 'ops@example.com']);
    expect(config.http.trustProxy).toBe('10.0.0.0/8,192.168.1.1');
  });
});
