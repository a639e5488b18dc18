import { Client as PgClient } from 'pg';
import { idsIn, parseRanges } from '../../src/audit/audit-chain';
import { AppProcess, Deployment, startDeployment, waitUntil } from '../support/app-process';
import { runCli } from '../support/cli';
import { requestCode, signIn, uniqueEmail } from '../support/factories';
import { describeWith } from '../support/services';
import { HttpResult } from '../support/test-app';

const ADMIN = 'ops@example.com';
const PER_IP_PER_MINUTE = 6;
const MAX_FAILED_PER_ADDRESS = 4;
const OTP_TTL_SECONDS = 4;

const send = (app: AppProcess, email: string, client: Client) =>
  app.request('POST', '/api/v1/auth/otp', { json: { email }, headers: client });
const verify = (app: AppProcess, sessionId: string, code: string, client: Client) =>
  app.request('POST', '/api/v1/auth/otp/verify', { json: { sessionId, code }, headers: client });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const wrong = (code: string) => (code === '000000' ? '000001' : '000000');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Each test is its own client (X-Forwarded-For, honoured with TRUST_PROXY=1), so the small
 * per-IP budget that one test uses up leaves the others alone.
 */
type Client = Record<string, string>;
let clients = 0;
const newClient = (): Client => ({ 'x-forwarded-for': `198.51.100.${++clients}` });

function expect429(response: HttpResult, code: string) {
  expect(response.status).toBe(429);
  expect(response.body.code).toBe(code);
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
}

describeWith(['postgres', 'redis'], 'three compiled instances sharing PostgreSQL, Redis and SMTP', () => {
  let deployment: Deployment;
  let a: AppProcess;
  let b: AppProcess;
  let c: AppProcess;
  let all: AppProcess[];
  const test = (name: string, body: () => Promise<void>, timeout?: number) =>
    it(name, () => deployment.explained(body)(), timeout);

  beforeAll(async () => {
    deployment = await startDeployment(3, {
      TRUST_PROXY: '1',
      RATE_LIMIT_PER_IP_PER_MINUTE: String(PER_IP_PER_MINUTE),
      OTP_MAX_FAILED_PER_ADDRESS: String(MAX_FAILED_PER_ADDRESS),
      OTP_TTL_SECONDS: String(OTP_TTL_SECONDS),
      ADMIN_EMAILS: ADMIN,
      CLEANUP_CRON: '* * * * * *',
      // Instances of one deployment must share Redis; none may go on alone from memory.
      REDIS_FALLBACK: 'fail',
    });
    all = deployment.instances;
    [a, b, c] = all;
  }, 60_000);
  afterAll(() => deployment?.stop(), 30_000);

  test('all start at once on a fresh database without an error', async () => {
    for (const instance of all) expect(instance.errorLines).toEqual([]);
  });

  test('verifies on B a code requested on A; the session works on C', async () => {
    const client = newClient();
    const email = uniqueEmail('cross');
    const { sessionId, code } = await requestCode(a, email, client);
    const verified = await verify(b, sessionId, code, client);
    expect(verified.status).toBe(200);
    const me = await c.request('GET', '/api/v1/users/me', { headers: bearer(verified.body.accessToken) });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: verified.body.user.id, email });
  });

  test('counts the per-IP budget across instances', async () => {
    const client = newClient();
    const statuses = [];
    for (let i = 0; i < PER_IP_PER_MINUTE; i++)
      statuses.push((await send(all[i % 3], uniqueEmail('ip'), client)).status);
    expect(statuses).toEqual(Array(PER_IP_PER_MINUTE).fill(202));
    for (const instance of all) expect429(await send(instance, uniqueEmail('ip'), client), 'rate_limited');
  });

  test('counts the per-address cooldown across instances', async () => {
    const email = uniqueEmail('cooldown');
    await requestCode(a, email, newClient());
    for (const instance of [b, c, a]) expect429(await send(instance, email, newClient()), 'otp_resend_too_soon');
  });

  test('counts the per-address failure budget across instances and clients', async () => {
    const email = uniqueEmail('budget');
    const { sessionId, code } = await requestCode(a, email, newClient());
    const remaining = [];
    for (let i = 0; i < MAX_FAILED_PER_ADDRESS; i++) {
      const response = await verify(all[i % 3], sessionId, wrong(code), newClient());
      expect(response.body.code).toBe('otp_invalid');
      remaining.push(response.body.attemptsRemaining);
    }
    expect(remaining).toEqual([4, 3, 2, 1]);
    for (const instance of all) expect429(await verify(instance, sessionId, code, newClient()), 'rate_limited');
  });

  test('shows a profile changed on B at once on A and C, though each had read it before', async () => {
    const session = await signIn(a, uniqueEmail('profile'), newClient());
    const me = async (instance: AppProcess) =>
      (await instance.request('GET', '/api/v1/users/me', { headers: bearer(session.accessToken) })).body;
    for (const instance of all) expect((await me(instance)).name).toBeNull();

    expect(
      (await b.request('PATCH', '/api/v1/users/me', { json: { name: 'Ada' }, headers: bearer(session.accessToken) }))
        .status,
    ).toBe(200);
    for (const instance of [a, c, b]) expect((await me(instance)).name).toBe('Ada');
  });

  test('honours a logout on B at once on A and C, for the access and the refresh token', async () => {
    const client = newClient();
    const session = await signIn(a, uniqueEmail('logout'), client);
    for (const instance of all)
      expect((await instance.request('GET', '/api/v1/users/me', { headers: bearer(session.accessToken) })).status).toBe(
        200,
      );

    expect((await b.request('POST', '/api/v1/auth/logout', { headers: bearer(session.accessToken) })).status).toBe(204);
    for (const instance of [a, c]) {
      const me = await instance.request('GET', '/api/v1/users/me', { headers: bearer(session.accessToken) });
      expect(me.status).toBe(401);
      expect(me.body.code).toBe('unauthorized');
      expect(me.headers.get('www-authenticate')).toContain('Bearer');
    }
    for (const instance of [c, a]) {
      const refreshed = await instance.request('POST', '/api/v1/auth/refresh', {
        json: { refreshToken: session.refreshToken },
      });
      expect(refreshed.status).toBe(401);
    }
  });

  test('lets exactly one of 50 concurrent verifications of one code, spread over the three, succeed', async () => {
    const { sessionId, code } = await requestCode(a, uniqueEmail('race'), newClient());
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => verify(all[i % 3], sessionId, code, newClient())),
    );
    expect(responses.filter((response) => response.status === 200)).toHaveLength(1);
    expect(responses.filter((response) => response.body?.code === 'otp_expired')).toHaveLength(49);
  });

  test('seals the audit trail in one chain: each round once, each event in exactly one round', async () => {
    await Promise.all(all.map((instance) => signIn(instance, uniqueEmail('seal'), newClient())));
    const db = new PgClient({ connectionString: deployment.env.DATABASE_URL });
    await db.connect();
    try {
      let rounds: { round: string; events: string }[] = [];
      await waitUntil(async () => {
        const [{ total }] = (await db.query('SELECT count(*)::int AS total FROM audit_events')).rows;
        rounds = (await db.query('SELECT round, events FROM audit_seals ORDER BY round')).rows;
        const sealed = rounds.reduce((sum, round) => sum + [...idsIn(parseRanges(round.events))].length, 0);
        return sealed === total;
      }, 'the instances did not seal every event');
      expect(rounds.map((round) => Number(round.round))).toEqual(rounds.map((_, i) => i + 1));
      const ids = rounds.flatMap((round) => [...idsIn(parseRanges(round.events))]);
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      await db.end();
    }
    const verified = await runCli(deployment, 'audit', 'verify');
    expect(verified.stdout).toMatch(/^audit chain intact: \d+ events verified \(rounds 1 to \d+\)$/);
    expect(verified.status).toBe(0);
  });

  test('runs the scheduled cleanup on one instance per tick', async () => {
    const client = newClient();
    const admin = await signIn(a, ADMIN, client);
    const auditOf = (type: string) => events(a, admin.accessToken, type);

    // Codes issued on every instance keep expiring, so each tick has work. C is kept busy across
    // each tick, so its timer fires late: after the winner of the tick has finished and let go.
    // Runs are counted between two mid-second readings, so the ticks in between are known.
    await untilMidSecond();
    const start = Date.now();
    const runsBefore = await cleanupRuns(all);
    for (let i = 0; i < 4; i++) {
      await requestCode(all[i % 3], uniqueEmail('expiring'), newClient());
      await sleep(1000 - (Date.now() % 1000) - 20);
      await Promise.all(Array.from({ length: 200 }, () => c.request('GET', '/health/live')));
      await untilMidSecond();
    }
    const ticks = Math.round((Date.now() - start) / 1000);
    const runs = (await cleanupRuns(all)) - runsBefore;
    expect(runs).toBeGreaterThanOrEqual(ticks - 1);
    expect(runs).toBeLessThanOrEqual(ticks);

    // Every code of the whole suite expires and is removed exactly once, however many instances tick.
    const sent = (await auditOf('otp.sent')).length;
    let cleanups: AuditItem[] = [];
    const removed = () => cleanups.reduce((sum, event) => sum + event.details.otpTokens, 0);
    const deadline = Date.now() + (OTP_TTL_SECONDS + 3) * 1000;
    while (Date.now() < deadline) {
      cleanups = await auditOf('otp.cleanup');
      if (removed() >= sent) break;
      await sleep(250);
    }
    expect(removed()).toBe(sent);
    const perSecond = new Map<string, number>();
    for (const event of cleanups) perSecond.set(event.at.slice(0, 19), (perSecond.get(event.at.slice(0, 19)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBe(1);
    expect(perSecond.size).toBeGreaterThan(1);
  }, 30_000);
});

interface AuditItem {
  type: string;
  at: string;
  details: Record<string, number>;
}

async function events(app: AppProcess, token: string, type: string): Promise<AuditItem[]> {
  const items: AuditItem[] = [];
  let cursor: string | null = null;
  do {
    const response: HttpResult = await app.request(
      'GET',
      `/api/v1/admin/audit?type=${type}&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
      { headers: bearer(token) },
    );
    expect(response.status).toBe(200);
    items.push(...response.body.items);
    cursor = response.body.nextCursor;
  } while (cursor);
  return items;
}

/** Cleanup runs done by the instances, from their metrics. */
async function cleanupRuns(instances: AppProcess[]): Promise<number> {
  const counts = await Promise.all(
    instances.map(async (instance) => {
      const response = await instance.request('GET', '/metrics');
      return Number(/^cleanup_runs_total (\d+)$/m.exec(response.text)?.[1] ?? NaN);
    }),
  );
  return counts.reduce((sum, count) => sum + count, 0);
}

/** Half-way between two ticks of a per-second cron. */
async function untilMidSecond(): Promise<void> {
  await sleep((1500 - (Date.now() % 1000)) % 1000);
}
