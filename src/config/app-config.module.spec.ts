import { Test } from '@nestjs/testing';
import { ConfigService } from '@nestjs/config';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig, ConfigError, loadConfig } from './app-config';
import { AppConfigModule } from './app-config.module';
import { APP_CONFIG } from './app-config.token';

const SECRET_KEY = 'a'.repeat(24) + 'Zq8w-3kP1x';

describe('AppConfigModule', () => {
  let dir: string;
  let envFile: string;
  // The variables these tests set; whatever the runner's environment holds for them is put back after.
  const saved = Object.fromEntries(
    ['SECRET_KEY', 'LOG_LEVEL', 'OTP_TTL_SECONDS', 'OTP_LENGTH'].map((name) => [name, process.env[name]]),
  );

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'app-config-'));
    envFile = join(dir, '.env');
    for (const name of Object.keys(saved)) delete process.env[name];
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  async function appConfigOf(module: ReturnType<typeof AppConfigModule.withConfig>): Promise<AppConfig> {
    const sut = await Test.createTestingModule({ imports: [module] }).compile();
    return sut.get<AppConfig>(APP_CONFIG);
  }

  it('reads .env, the process environment winning over it', async () => {
    writeFileSync(envFile, `SECRET_KEY=${SECRET_KEY}\nOTP_TTL_SECONDS=120\nLOG_LEVEL=debug\n`);
    process.env.LOG_LEVEL = 'warn';

    const config = await appConfigOf(AppConfigModule.fromEnvironment(envFile));

    expect(config.otp.ttlSeconds).toBe(120);
    expect(config.logLevel).toBe('warn');
    expect(config.secretKey.toString()).toBe(SECRET_KEY);
  });

  it('refuses a bad value in .env with a ConfigError naming the variable', async () => {
    writeFileSync(envFile, `SECRET_KEY=${SECRET_KEY}\nOTP_TTL_SECONDS=900\n`);

    const refusal = AppConfigModule.fromEnvironment(envFile);

    await expect(refusal).rejects.toBeInstanceOf(ConfigError);
    await expect(refusal).rejects.toThrow('OTP_TTL_SECONDS must be between 1 and 600, got 900');
  });

  it('leaves the process environment as it was', async () => {
    writeFileSync(envFile, `SECRET_KEY=${SECRET_KEY}\nOTP_LENGTH=8\n`);

    const config = await appConfigOf(AppConfigModule.fromEnvironment(envFile));

    expect(config.otp.length).toBe(8);
    expect(process.env.OTP_LENGTH).toBeUndefined();
  });

  it('serves a given configuration without reading the environment again', async () => {
    const given = loadConfig({ SECRET_KEY, OTP_TTL_SECONDS: '42' });
    process.env.OTP_TTL_SECONDS = 'not a number';

    const sut = await Test.createTestingModule({ imports: [AppConfigModule.withConfig(given)] }).compile();

    expect(sut.get(APP_CONFIG)).toBe(given);
    expect(sut.get(ConfigService).get('OTP_TTL_SECONDS')).toBeUndefined();
  });
});
