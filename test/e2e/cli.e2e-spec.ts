import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDataSource } from '../../src/database/data-source-options';
import { ENTITIES } from '../../src/entities';
import { assertCompiled, COMPILED_MAIN, freePort, waitUntil } from '../support/app-process';
import { COMPILED_CLI } from '../support/cli';

/** The operator's command line: help, refusals, and audit verify on the embedded default across restarts. */

/** The compiled CLI in `cwd` with only this environment: no `.env`, nothing inherited. */
function cli(cwd: string, env: Record<string, string>, ...args: string[]) {
  const result = spawnSync(process.execPath, [COMPILED_CLI, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the command line', () => {
  let cwd: string;

  beforeAll(() => assertCompiled());
  beforeEach(() => (cwd = mkdtempSync(join(tmpdir(), 'cli-'))));
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  // A production environment missing every required variable: only help may succeed in it.
  const UNCONFIGURED = { NODE_ENV: 'production' };

  it.each([
    [['--help']],
    [['-h']],
    [['help']],
    [['token', '--help']],
    [['token', 'revoke', '-h']],
    [['client', 'add', '--help']],
  ])('prints the usage for %j and exits 0 without any configuration', (args) => {
    const result = cli(cwd, UNCONFIGURED, ...args);
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(result.stdout).toMatch(/^usage:\n/);
    for (const command of [
      'token --service NAME --scope',
      'token revoke JTI',
      'client add --name NAME --redirect-uri URI',
      'client list',
      'client remove CLIENT_ID',
      'audit verify',
    ])
      expect(result.stdout).toContain(command);
    expect(result.stdout).toContain('audit:read, tokens:introspect, users:read');
  });

  const MINT = ['token', '--service', 'billing', '--scope', 'audit:read'];
  const CLIENT_ADD = ['client', 'add', '--name', 'Cli'];

  it.each([
    ['an unknown command', ['frobnicate'], 'unknown command "frobnicate"'],
    ['no command', [], 'a command is required'],
    ['an unknown flag', [...MINT, '--tll', '30d'], 'unknown option --tll'],
    ['an unknown single-dash flag', [...MINT, '-t', '30d'], 'unknown option -t'],
    ['a flag missing its value at the end', [...MINT, '--ttl'], '--ttl needs a value'],
    ['a flag followed by another flag', ['token', '--service', '--scope', 'audit:read'], '--service needs a value'],
    ['an empty value', [...MINT, '--ttl='], '--ttl needs a value'],
    ['a flag given twice', [...MINT, '--ttl', '1h', '--ttl', '30d'], '--ttl is given twice'],
    ['a stray argument', [...MINT, 'extra'], 'unexpected argument'],
    [
      'an unknown scope',
      ['token', '--service', 'billing', '--scope', 'audit:read admin:everything'],
      'unknown scope "admin:everything": --scope takes audit:read, tokens:introspect, users:read',
    ],
    [
      'a scope of another shape',
      ['token', '--service', 'billing', '--scope', 'audit:*'],
      'unknown scope: --scope takes audit:read, tokens:introspect, users:read',
    ],
    [
      'a bad --ttl',
      [...MINT, '--ttl', 'forever'],
      '--ttl must be a duration such as 900, 15m, 1h or 30d (at most 366d)',
    ],
    ['token revoke without a jti', ['token', 'revoke'], 'token revoke takes one argument: the jti of the token'],
    [
      'token revoke with two',
      ['token', 'revoke', 'a'.repeat(32), 'b'.repeat(32)],
      'token revoke takes one argument: the jti of the token',
    ],
    ['an audit subcommand other than verify', ['audit', 'repair'], 'audit takes one subcommand: verify'],
    ['audit verify with a flag', ['audit', 'verify', '--fast'], 'audit takes one subcommand: verify'],
    ['client without a subcommand', ['client'], 'client takes a subcommand: add, list or remove'],
    ['an unknown client subcommand', ['client', 'rename'], 'client takes a subcommand: add, list or remove'],
    ['client add without --name', ['client', 'add', '--redirect-uri', 'https://a.example/cb'], '--name is required'],
    ['client add without --redirect-uri', CLIENT_ADD, '--redirect-uri is required (repeat it for more than one)'],
    [
      'client add --public with a value',
      [...CLIENT_ADD, '--redirect-uri', 'https://a.example/cb', '--public=yes'],
      '--public takes no value',
    ],
    [
      'client add --name given twice',
      [...CLIENT_ADD, '--name', 'Again', '--redirect-uri', 'https://a.example/cb'],
      '--name is given twice',
    ],
    [
      'client add with an unknown --id-token-alg',
      [...CLIENT_ADD, '--redirect-uri', 'https://a.example/cb', '--id-token-alg', 'HS256'],
      '--id-token-alg must be ES256 or RS256',
    ],
    [
      'client add with an option it does not know',
      [...CLIENT_ADD, '--redirect-uri', 'https://a.example/cb', '--token-endpoint-auth-method', 'none'],
      'unknown option --token-endpoint-auth-method',
    ],
    ['client list with an argument', ['client', 'list', 'all'], 'client list takes no arguments'],
    ['client remove without an id', ['client', 'remove'], 'client remove takes one argument: the client id'],
    [
      'client remove with a malformed id',
      ['client', 'remove', 'not-an-id'],
      'CLIENT_ID must be a client id as `client add` printed it: 32 hexadecimal digits',
    ],
  ])('refuses %s with exit 2 and one line saying why, then the usage', (_what, args, reason) => {
    // A development environment would mint; nothing may be minted or read from a database here.
    const result = cli(cwd, { NODE_ENV: 'development' }, ...args);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    const [first, ...rest] = result.stderr.split('\n');
    expect(first).toBe(reason);
    expect(rest[0]).toBe('usage:');
    expect(() => statSync(join(cwd, 'data'))).toThrow();
  });

  it('names the missing configuration in one line when a command needs it', () => {
    const result = cli(cwd, UNCONFIGURED, ...MINT);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^Invalid configuration: SECRET_KEY is required in production[^\n]*\n$/);
  });
});

describe('audit verify on the embedded default, across restarts', () => {
  let cwd: string;
  let server: ChildProcess | undefined;

  beforeAll(() => assertCompiled());
  beforeEach(() => (cwd = mkdtempSync(join(tmpdir(), 'embedded-'))));
  afterEach(async () => {
    await stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  /** `npm run start:prod` in `cwd` with nothing configured: SQLite, memory store, development mailbox, no SECRET_KEY. */
  async function start(): Promise<string> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, [COMPILED_MAIN], {
      cwd,
      env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    server = child;
    let exited = false;
    child.once('exit', () => (exited = true));
    await waitUntil(
      async () => (await fetch(`${url}/health/ready`)).ok,
      'the embedded default did not become ready',
      20_000,
      () => (exited ? 'it exited' : undefined),
    );
    return url;
  }

  async function stop(): Promise<void> {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  /** Until the running service has sealed every event; resolves to how many there are, and in how many rounds. */
  async function sealedEvents(): Promise<{ total: number; rounds: number }> {
    const dataSource = createDataSource({ type: 'sqlite', path: join(cwd, 'data', 'app.sqlite') }, ENTITIES);
    await dataSource.initialize();
    try {
      let total = 0;
      let rounds = 0;
      await waitUntil(async () => {
        const [events] = await dataSource.query('SELECT count(*) AS total FROM audit_events');
        const [seals] = await dataSource.query(
          'SELECT count(*) AS rounds, sum(event_count) AS sealed FROM audit_seals',
        );
        total = Number(events.total);
        rounds = Number(seals.rounds);
        return total > 0 && Number(seals.sealed) === total;
      }, 'the service did not seal its audit events');
      return { total, rounds };
    } finally {
      await dataSource.destroy();
    }
  }

  async function requestCode(url: string, email: string): Promise<void> {
    const response = await fetch(`${url}/api/v1/auth/otp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email }),
    });
    expect(response.status).toBe(202);
  }

  it('keeps the generated SECRET_KEY in ./data, so the chain sealed before a restart still verifies after it', async () => {
    await requestCode(await start(), 'before@example.com');
    const before = await sealedEvents();
    const keyFile = join(cwd, 'data', 'secret-key');
    const key = readFileSync(keyFile, 'utf8');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    await stop();

    await requestCode(await start(), 'after@example.com');
    const after = await sealedEvents();
    expect(after.total).toBeGreaterThan(before.total);
    expect(readFileSync(keyFile, 'utf8')).toBe(key);

    const verified = cli(cwd, {}, 'audit', 'verify');
    expect({ status: verified.status, stdout: verified.stdout, stderr: verified.stderr }).toEqual({
      status: 0,
      stdout: `audit chain intact: ${after.total} events verified (rounds 1 to ${after.rounds})\n`,
      stderr: '',
    });
  });
});
