import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { Client } from 'pg';
import { DataSource, QueryDeepPartialEntity } from 'typeorm';
import { AuditChainService } from '../../src/audit/audit-chain.service';
import { AuditRepository } from '../../src/audit/audit.repository';
import { AuditService } from '../../src/audit/audit.service';
import { Session } from '../../src/auth/session.entity';
import { Secrets } from '../../src/common/secrets';
import { loadConfig } from '../../src/config/app-config';
import { createDataSource } from '../../src/database/data-source-options';
import { ENTITIES } from '../../src/entities';
import { OidcPayloadsRepository } from '../../src/oidc/storage/oidc-payloads.repository';
import { OidcStorage } from '../../src/oidc/storage/oidc-storage';
import { MemoryJobLock } from '../../src/store/job-lock';
import { newSignIn } from '../../src/users/users.repository';
import { User } from '../../src/users/user.entity';
import { AppProcess, freePort, waitUntil } from '../support/app-process';
import { runCli } from '../support/cli';
import { FakeClock } from '../support/fake-clock';
import { signIn, uniqueEmail } from '../support/factories';
import { describeWith, TEST_POSTGRES_URL } from '../support/services';
import { SmtpSink } from '../support/smtp-sink';
import { deploymentEnv } from '../support/test-app';

const ROOT = join(__dirname, '..', '..');
const SERVICE_ROLE_SQL = join(ROOT, 'deploy', 'postgres-service-role.sql');
const ADMIN = 'ops@example.com';
/** A second admin: the first one's address is still in its code cooldown when the deletions run. */
const DELETING_ADMIN = 'ops-deletions@example.com';
const DAY_MS = 86_400_000;
const OLD_EVENTS = 3;
/** permission denied, or must be owner */
const INSUFFICIENT_PRIVILEGE = '42501';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** `url` with another user and no password: PostgreSQL trusts loopback connections in the tests. */
function asRole(url: string, role: string): string {
  const withRole = new URL(url);
  withRole.username = role;
  withRole.password = '';
  return withRole.href;
}

function run(command: string, args: string[], env: Record<string, string>) {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

async function sql<T = Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * What an operator does with deploy/postgres-service-role.sql: an owner role migrates with the
 * real command and runs the script with psql; the compiled service and its CLI then run under
 * the role it created, with DATABASE_MIGRATE=false. Every statement the service runs must be
 * granted (its log stays free of warnings and errors), and the audit trail must stay insert-only.
 */
describeWith(['postgres', 'redis'], 'the service under the restricted role of deploy/postgres-service-role.sql', () => {
  const suffix = randomBytes(4).toString('hex');
  const ownerRole = `otp_owner_${suffix}`;
  const serviceRole = `otp_service_${suffix}`;
  const cleanups: (() => Promise<void> | void)[] = [];
  const sink = new SmtpSink();
  let ownerUrl: string;
  let serviceEnv: Record<string, string>;
  let app: AppProcess;

  const cleanupCounts = () =>
    sql<{ details: Record<string, number> }>(ownerUrl, `SELECT details FROM audit_events WHERE type = 'otp.cleanup'`);
  const sum = async (kind: string) => (await cleanupCounts()).reduce((total, row) => total + row.details[kind], 0);
  /** pino's lines at warn level or above: a refused statement shows up as a failed job or request. */
  const warnings = () =>
    app.output.filter((line) => {
      try {
        return Number((JSON.parse(line) as { level?: unknown }).level) >= 40;
      } catch {
        return false;
      }
    });

  beforeAll(async () => {
    const env = await deploymentEnv('postgres-redis', cleanups);
    await sink.start();
    cleanups.push(() => sink.stop());

    await sql(TEST_POSTGRES_URL, `CREATE ROLE "${ownerRole}" LOGIN CREATEROLE`);
    cleanups.unshift(async () => {
      await sql(TEST_POSTGRES_URL, `DROP ROLE IF EXISTS "${serviceRole}"`);
      await sql(TEST_POSTGRES_URL, `DROP ROLE IF EXISTS "${ownerRole}"`);
    });
    await sql(
      TEST_POSTGRES_URL,
      `ALTER DATABASE "${new URL(env.DATABASE_URL).pathname.slice(1)}" OWNER TO "${ownerRole}"`,
    );
    ownerUrl = asRole(env.DATABASE_URL, ownerRole);
    // Hardened as a careful operator would: only the script's grants let the service role in.
    await sql(ownerUrl, `REVOKE CONNECT ON DATABASE "${new URL(ownerUrl).pathname.slice(1)}" FROM PUBLIC`);
    await sql(ownerUrl, `REVOKE ALL ON SCHEMA public FROM PUBLIC`);

    // The owner's environment holds no secret of the service.
    run('npm', ['run', 'typeorm', '--', 'migration:run'], { DATABASE_URL: ownerUrl, NODE_ENV: 'production' });
    run('psql', ['--no-psqlrc', '--quiet', ownerUrl, '-v', `service_role=${serviceRole}`, '-f', SERVICE_ROLE_SQL], {});

    await writeHistory(env);

    serviceEnv = {
      ...env,
      DATABASE_URL: asRole(env.DATABASE_URL, serviceRole),
      DATABASE_MIGRATE: 'false',
      MAIL_PORT: String(sink.port),
      ADMIN_EMAILS: `${ADMIN},${DELETING_ADMIN}`,
      CLEANUP_CRON: '* * * * * *',
      AUDIT_RETENTION_DAYS: '1',
      OTP_TTL_SECONDS: '4',
      LOG_LEVEL: 'warn',
    };
    app = await AppProcess.start({ name: 'restricted', env: serviceEnv, port: await freePort(), sink });
  }, 90_000);

  afterAll(async () => {
    await app?.stop();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }, 30_000);

  /**
   * As the owner, what an earlier run left: events sealed three days ago, past retention, a user
   * whose session has ended and an authorization code that expired. The round is sealed and the
   * code stored by the service's own code on a clock set back.
   */
  async function writeHistory(env: Record<string, string>): Promise<void> {
    const clock = new FakeClock(Date.now() - 3 * DAY_MS);
    const owner: DataSource = createDataSource({ type: 'postgres', url: ownerUrl }, ENTITIES);
    await owner.initialize();
    try {
      await new AuditService(owner, clock).record(
        Array.from({ length: OLD_EVENTS }, (_, i) => ({ type: 'otp.requested' as const, details: { i } })),
      );
      const secrets = new Secrets(loadConfig(env).secretKey);
      const sealer = new AuditChainService(new AuditRepository(owner), secrets, new MemoryJobLock(), clock);
      expect(await sealer.sealPending()).toBe(OLD_EVENTS);

      const at = new Date(clock.now());
      const user = newSignIn(uniqueEmail('earlier'), at);
      await owner.manager.insert(User, user as QueryDeepPartialEntity<User>);
      const ended: Session = {
        id: randomUUID(),
        userId: user.id,
        refreshTokenHash: randomBytes(32).toString('hex'),
        refreshedAt: null,
        refreshExpiresAt: new Date(clock.now() + DAY_MS),
        expiresAt: new Date(clock.now() + DAY_MS),
        createdAt: at,
        lastUsedAt: at,
        ip: '192.0.2.1',
        userAgent: null,
        revokedAt: null,
      };
      await owner.manager.insert(Session, ended as QueryDeepPartialEntity<Session>);

      const oidcState = new OidcStorage(new OidcPayloadsRepository(owner), secrets, clock);
      await new (oidcState.adapterClass())('AuthorizationCode').upsert(
        randomBytes(32).toString('base64url'),
        { grantId: randomBytes(32).toString('base64url') },
        600,
      );
    } finally {
      await owner.destroy();
    }
  }

  it('signs in, reads and edits the profile, refreshes, serves the admin (users, audit, clients), and logs out', async () => {
    const user = await signIn(app);
    const me = await app.request('GET', '/api/v1/users/me', { headers: bearer(user.accessToken) });
    expect(me).toMatchObject({ status: 200, body: { id: user.user.id, email: user.email } });
    const renamed = await app.request('PATCH', '/api/v1/users/me', {
      json: { name: 'Ada' },
      headers: bearer(user.accessToken),
    });
    expect(renamed).toMatchObject({ status: 200, body: { name: 'Ada' } });
    const refreshed = await app.request('POST', '/api/v1/auth/refresh', { json: { refreshToken: user.refreshToken } });
    expect(refreshed.status).toBe(200);
    const sessions = await app.request('GET', '/api/v1/auth/sessions', {
      headers: bearer(refreshed.body.accessToken),
    });
    expect(sessions).toMatchObject({ status: 200, body: { items: [{ current: true }] } });

    const admin = await signIn(app, ADMIN);
    const audit = await app.request('GET', '/api/v1/admin/audit?limit=100', { headers: bearer(admin.accessToken) });
    expect(audit.status).toBe(200);
    expect(audit.body.items.map((event: { type: string }) => event.type)).toContain('session.refreshed');
    const users = await app.request('GET', '/api/v1/admin/users', { headers: bearer(admin.accessToken) });
    expect(users.status).toBe(200);
    const revoked = await app.request('POST', `/api/v1/admin/users/${user.user.id}/revoke-sessions`, {
      headers: bearer(admin.accessToken),
    });
    expect(revoked.status).toBe(204);
    const registered = await app.request('POST', '/api/v1/admin/clients', {
      json: { name: 'Restricted', redirect_uris: ['https://app.example.com/cb'] },
      headers: bearer(admin.accessToken),
    });
    expect(registered.status).toBe(201);
    const listed = await app.request('GET', '/api/v1/admin/clients', { headers: bearer(admin.accessToken) });
    expect(listed.body.items.map((client: { client_id: string }) => client.client_id)).toContain(
      registered.body.client_id,
    );
    const removed = await app.request('DELETE', `/api/v1/admin/clients/${registered.body.client_id}`, {
      headers: bearer(admin.accessToken),
    });
    expect(removed.status).toBe(204);
    expect((await app.request('POST', '/api/v1/auth/logout', { headers: bearer(admin.accessToken) })).status).toBe(204);
    expect((await app.request('GET', '/api/v1/users/me', { headers: bearer(admin.accessToken) })).status).toBe(401);
  });

  it('deletes accounts under the role, by their user and by an admin, and exports one', async () => {
    const user = await signIn(app);
    const exported = await app.request('GET', '/api/v1/users/me/export', { headers: bearer(user.accessToken) });
    expect(exported).toMatchObject({ status: 200, body: { user: { id: user.user.id } } });
    expect((await app.request('DELETE', '/api/v1/users/me', { headers: bearer(user.accessToken) })).status).toBe(204);
    expect((await app.request('GET', '/api/v1/users/me', { headers: bearer(user.accessToken) })).status).toBe(401);

    const other = await signIn(app);
    const admin = await signIn(app, DELETING_ADMIN);
    const deleted = await app.request('DELETE', `/api/v1/admin/users/${other.user.id}`, {
      headers: bearer(admin.accessToken),
    });
    expect(deleted.status).toBe(204);
    const left = await sql(ownerUrl, 'SELECT id FROM users WHERE id = ANY($1)', [[user.user.id, other.user.id]]);
    expect(left).toEqual([]);
  });

  it('mints, uses and revokes a service token from the CLI under the role', async () => {
    const minted = await runCli({ env: serviceEnv }, 'token', '--service', 'x', '--scope', 'audit:read');
    expect(minted).toMatchObject({ status: 0, stderr: '' });
    const token = minted.stdout;
    expect((await app.request('GET', '/api/v1/admin/audit', { headers: bearer(token) })).status).toBe(200);

    const jti = decodeJwt(token).jti as string;
    const revoked = await runCli({ env: serviceEnv }, 'token', 'revoke', jti);
    expect(revoked).toMatchObject({ status: 0, stderr: '' });
    expect(revoked.stdout).toMatch(new RegExp(`^revoked service token ${jti} `));
    expect((await app.request('GET', '/api/v1/admin/audit', { headers: bearer(token) })).status).toBe(401);

    // Expires at once, so that the cleanup has a record to delete.
    const expiring = await runCli(
      { env: serviceEnv },
      'token',
      '--service',
      'x',
      '--scope',
      'audit:read',
      '--ttl',
      '1s',
    );
    expect(expiring.status).toBe(0);
  });

  it('registers, lists and removes OpenID Connect clients with the CLI under the role', async () => {
    const added = await runCli(
      { env: serviceEnv },
      'client',
      'add',
      '--public',
      '--name',
      'Restricted CLI',
      '--redirect-uri',
      'com.example.app:/cb',
    );
    expect(added).toMatchObject({ status: 0, stderr: '' });
    const { client_id: clientId } = JSON.parse(added.stdout) as { client_id: string };
    expect((await runCli({ env: serviceEnv }, 'client', 'list')).stdout).toContain(clientId);
    expect(await runCli({ env: serviceEnv }, 'client', 'remove', clientId)).toMatchObject({ status: 0, stderr: '' });
  });

  it('seals every event, cleans up expired codes, ended sessions, tokens and OIDC state, and prunes rounds past retention', async () => {
    const sealedEverything = async () => {
      const [{ events, sealed }] = await sql<{ events: string; sealed: string }>(
        ownerUrl,
        `SELECT (SELECT count(*) FROM audit_events) AS events,
                (SELECT coalesce(sum(event_count), 0) FROM audit_seals) AS sealed`,
      );
      return events === sealed;
    };
    await waitUntil(
      async () =>
        (await sum('otpTokens')) > 0 &&
        (await sum('sessions')) > 0 &&
        (await sum('serviceTokens')) > 0 &&
        (await sum('oidcPayloads')) === 1 &&
        (await sum('auditEvents')) === OLD_EVENTS &&
        (await sealedEverything()),
      'cleanup and sealing under the restricted role',
      30_000,
    );

    expect(await sql(ownerUrl, `SELECT id FROM audit_events WHERE at < now() - interval '1 day'`)).toEqual([]);
    expect(await sql(ownerUrl, `SELECT model FROM oidc_payloads`)).toEqual([]);
    expect(await sql(ownerUrl, `SELECT round FROM audit_seals WHERE round = '1'`)).toEqual([]);
    expect(await sql(ownerUrl, `SELECT kind, chain_index FROM audit_anchors`)).toEqual([
      { kind: 'round', chain_index: '1' },
    ]);
  }, 40_000);

  it('verifies the chain with the CLI under the role', async () => {
    const verified = await runCli({ env: serviceEnv }, 'audit', 'verify');
    expect(verified.stdout).toMatch(/^audit chain intact: \d+ events verified \(rounds 2 to \d+\)$/);
    expect(verified.status).toBe(0);
  });

  it.each([
    ['update an event', 'UPDATE audit_events SET type = type'],
    ['update a seal', 'UPDATE audit_seals SET mac = mac'],
    ['update an anchor', 'UPDATE audit_anchors SET seal = seal'],
    ['delete an anchor', 'DELETE FROM audit_anchors'],
    ['truncate the events', 'TRUNCATE audit_events'],
    ['truncate the seals', 'TRUNCATE audit_seals'],
    ['truncate the anchors', 'TRUNCATE audit_anchors'],
    ['change a client', 'UPDATE oidc_clients SET name = name'],
    ['read the migrations', 'SELECT * FROM migrations'],
    ['create a table', 'CREATE TABLE intruder (id int)'],
    ['alter a table', 'ALTER TABLE audit_events DROP COLUMN details'],
  ])('refuses the role to %s', async (_what, statement) => {
    await expect(sql(serviceEnv.DATABASE_URL, statement)).rejects.toMatchObject({ code: INSUFFICIENT_PRIVILEGE });
  });

  it('does not start the CLI with DATABASE_MIGRATE left on: the role may not migrate', async () => {
    const refused = await runCli({ env: { ...serviceEnv, DATABASE_MIGRATE: 'true' } }, 'audit', 'verify');
    expect(refused.status).not.toBe(0);
    // information_schema hides the migrations table from a role without rights on it, so TypeORM tries to create it.
    expect(refused.stderr).toContain('permission denied for schema public');
  });

  it('logged no warning and no error under the role', () => {
    expect(warnings()).toEqual([]);
    expect(app.errorLines).toEqual([]);
  });
});
