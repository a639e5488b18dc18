import { DataSource } from 'typeorm';
import { describeWith } from '../support/services';
import { requestCode, signIn, uniqueEmail } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

const send = (app: TestApp, email: string, headers: Record<string, string> = {}) =>
  app.request('POST', '/api/v1/auth/otp', { json: { email }, headers });
const resend = (app: TestApp, sessionId: string) =>
  app.request('POST', '/api/v1/auth/otp/resend', { json: { sessionId } });
const verify = (app: TestApp, sessionId: string, code: string) =>
  app.request('POST', '/api/v1/auth/otp/verify', { json: { sessionId, code } });
const wrong = (code: string) => (code === '000000' ? '000001' : '000000');

async function auditEvents(
  app: TestApp,
  where: string,
  parameters: unknown[],
): Promise<{ type: string; email: string | null; ip: string; details: any }[]> {
  const rows = await app.app
    .get(DataSource)
    .query(`SELECT type, email, ip, details FROM audit_events WHERE ${where} ORDER BY id`, parameters);
  return rows.map((row: { details: unknown }) => ({
    ...row,
    details: typeof row.details === 'string' ? JSON.parse(row.details) : row.details,
  }));
}

function expectRetryAfter(
  response: { status: number; headers: Headers; body: any },
  code: string,
  min: number,
  max: number,
) {
  expect(response.status).toBe(429);
  expect(response.body.code).toBe(code);
  const retryAfter = Number(response.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(min);
  expect(retryAfter).toBeLessThanOrEqual(max);
}

describeWith(['postgres', 'redis'], 'abuse resistance on PostgreSQL + Redis', () => {
  describe('per-address limits', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({
        backend: 'postgres-redis',
        env: { OTP_RESEND_COOLDOWN_SECONDS: '0', OTP_MAX_FAILED_PER_ADDRESS: '3', OTP_MAX_ATTEMPTS: '5' },
      });
    });
    afterAll(() => app?.close());

    it('refuses a second code within the cooldown, for new logins and resends alike, and audits it once', async () => {
      const cooling = await startTestApp({ backend: 'postgres-redis', env: { OTP_RESEND_COOLDOWN_SECONDS: '60' } });
      try {
        const email = uniqueEmail('cooldown');
        const { sessionId } = await requestCode(cooling, email);
        expectRetryAfter(await send(cooling, email), 'otp_resend_too_soon', 55, 60);
        expectRetryAfter(await resend(cooling, sessionId), 'otp_resend_too_soon', 55, 60);
        expectRetryAfter(await send(cooling, email), 'otp_resend_too_soon', 55, 60);
        const hits = await auditEvents(cooling, `type = 'rate_limit.hit'`, []);
        expect(hits).toEqual([
          expect.objectContaining({ email, details: expect.objectContaining({ scope: 'address-cooldown' }) }),
        ]);
      } finally {
        await cooling.close();
      }
    });

    it('caps codes per address per hour', async () => {
      const app2 = await startTestApp({
        backend: 'postgres-redis',
        env: { OTP_RESEND_COOLDOWN_SECONDS: '0', OTP_MAX_PER_HOUR: '2' },
      });
      try {
        const email = uniqueEmail('hourly');
        await requestCode(app2, email);
        await requestCode(app2, email);
        expectRetryAfter(await send(app2, email), 'rate_limited', 3500, 3600);
        const hits = await auditEvents(app2, `type = 'rate_limit.hit'`, []);
        expect(hits.map((hit) => hit.details.scope)).toEqual(['address-hourly']);
      } finally {
        await app2.close();
      }
    });

    it('locks the address for 15 minutes after its failure budget, across logins, and mails it no code meanwhile', async () => {
      const email = uniqueEmail('budget');
      const first = await requestCode(app, email);
      expect((await verify(app, first.sessionId, wrong(first.code))).body).toMatchObject({
        code: 'otp_invalid',
        attemptsRemaining: 4,
      });
      expect((await verify(app, first.sessionId, wrong(first.code))).body).toMatchObject({
        code: 'otp_invalid',
        attemptsRemaining: 3,
      });
      const third = await verify(app, first.sessionId, wrong(first.code));
      expect(third.body).toMatchObject({ code: 'otp_invalid', attemptsRemaining: 2 });

      expectRetryAfter(await verify(app, first.sessionId, first.code), 'rate_limited', 895, 900);
      const mailed = app.sink.messagesTo(email).length;
      expectRetryAfter(await send(app, email), 'rate_limited', 895, 900);
      expect(app.sink.messagesTo(email)).toHaveLength(mailed);
      const types = (await auditEvents(app, 'email = $1', [email])).map((event) => event.type);
      expect(types).toEqual([
        'otp.requested',
        'otp.sent',
        'otp.failed',
        'otp.failed',
        'otp.failed',
        'otp.locked',
        'rate_limit.hit',
      ]);
    });

    it('resets the failure budget on a successful sign-in', async () => {
      const email = uniqueEmail('reset');
      const first = await requestCode(app, email);
      await verify(app, first.sessionId, wrong(first.code));
      await verify(app, first.sessionId, wrong(first.code));
      expect((await verify(app, first.sessionId, first.code)).status).toBe(200);
      const second = await requestCode(app, email);
      await verify(app, second.sessionId, wrong(second.code));
      await verify(app, second.sessionId, wrong(second.code));
      expect((await verify(app, second.sessionId, second.code)).status).toBe(200);
    });
  });

  describe('per-IP limit', () => {
    it('shares one budget across the OTP endpoints, answers 429 with Retry-After and audits it once', async () => {
      const app = await startTestApp({
        backend: 'postgres-redis',
        env: { RATE_LIMIT_PER_IP_PER_MINUTE: '4', OTP_RESEND_COOLDOWN_SECONDS: '0' },
      });
      try {
        const { sessionId } = await requestCode(app, uniqueEmail('ip'));
        expect((await resend(app, sessionId)).status).toBe(202);
        expect((await verify(app, sessionId, '123456')).status).toBe(401);
        expect((await send(app, uniqueEmail('ip'))).status).toBe(202);
        for (let i = 0; i < 3; i++) expectRetryAfter(await send(app, uniqueEmail('ip')), 'rate_limited', 1, 60);
        expectRetryAfter(await verify(app, sessionId, '123456'), 'rate_limited', 1, 60);
        const hits = await auditEvents(app, `type = 'rate_limit.hit'`, []);
        expect(hits).toHaveLength(1);
        expect(hits[0]).toMatchObject({ ip: '127.0.0.1', details: { scope: 'otp', limit: 4 } });
        expect((await app.request('GET', '/health/ready')).status).toBe(200);
      } finally {
        await app.close();
      }
    });

    it('ignores X-Forwarded-For unless TRUST_PROXY allows it', async () => {
      const direct = await startTestApp({ backend: 'postgres-redis', env: { RATE_LIMIT_PER_IP_PER_MINUTE: '2' } });
      try {
        const statuses = [];
        for (let i = 0; i < 3; i++)
          statuses.push((await send(direct, uniqueEmail('xff'), { 'x-forwarded-for': `198.51.100.${i}` })).status);
        expect(statuses).toEqual([202, 202, 429]);
      } finally {
        await direct.close();
      }
      const proxied = await startTestApp({
        backend: 'postgres-redis',
        env: { RATE_LIMIT_PER_IP_PER_MINUTE: '2', TRUST_PROXY: '1' },
      });
      try {
        const statuses = [];
        for (let i = 0; i < 3; i++)
          statuses.push((await send(proxied, uniqueEmail('xff'), { 'x-forwarded-for': `198.51.100.${i}` })).status);
        expect(statuses).toEqual([202, 202, 202]);
        const ips = (await auditEvents(proxied, `type = 'otp.sent'`, [])).map((event) => event.ip);
        expect(ips).toEqual(['198.51.100.0', '198.51.100.1', '198.51.100.2']);
      } finally {
        await proxied.close();
      }
    });
  });

  describe('two instances sharing PostgreSQL and Redis', () => {
    let a: TestApp;
    let b: TestApp;
    beforeAll(async () => {
      a = await startTestApp({
        backend: 'postgres-redis',
        env: {
          RATE_LIMIT_PER_IP_PER_MINUTE: '1000',
          OTP_MAX_ATTEMPTS: '100',
          OTP_MAX_FAILED_PER_ADDRESS: '100',
          OTP_RESEND_COOLDOWN_SECONDS: '60',
        },
      });
      b = await startTestApp({ backend: 'postgres-redis', sameDeploymentAs: a, sink: a.sink });
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    it('verifies on one instance a code requested on the other', async () => {
      const email = uniqueEmail('cross');
      const { sessionId, code } = await requestCode(a, email);
      expect((await verify(b, sessionId, code)).status).toBe(200);
    });

    it('counts the per-address cooldown across instances', async () => {
      const email = uniqueEmail('cross-cooldown');
      await requestCode(a, email);
      expect((await send(b, email)).body.code).toBe('otp_resend_too_soon');
    });

    it('lets exactly one of 50 concurrent verifications split across both succeed', async () => {
      const { sessionId, code } = await requestCode(a, uniqueEmail('race'));
      const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => verify(i % 2 ? a : b, sessionId, code)));
      expect(responses.filter((response) => response.status === 200)).toHaveLength(1);
      expect(responses.filter((response) => response.body?.code === 'otp_expired')).toHaveLength(49);
    });

    it('counts 50 concurrent wrong codes split across both exactly', async () => {
      const { sessionId, code } = await requestCode(a, uniqueEmail('count'));
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, i) => verify(i % 2 ? a : b, sessionId, wrong(code))),
      );
      const remaining = responses.map((response) => response.body.attemptsRemaining).sort((x, y) => x - y);
      expect(remaining).toEqual(Array.from({ length: 50 }, (_, i) => 50 + i));
      expect((await verify(b, sessionId, code)).status).toBe(200);
    });

    it('counts the per-IP limit across instances', async () => {
      const c = await startTestApp({ backend: 'postgres-redis', env: { RATE_LIMIT_PER_IP_PER_MINUTE: '4' } });
      const d = await startTestApp({ backend: 'postgres-redis', sameDeploymentAs: c, sink: c.sink });
      try {
        const statuses = [];
        for (let i = 0; i < 6; i++) statuses.push((await send(i % 2 ? c : d, uniqueEmail('split'))).status);
        expect(statuses).toEqual([202, 202, 202, 202, 429, 429]);
      } finally {
        await d.close();
        await c.close();
      }
    });
  });

  describe('enumeration resistance', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({
        backend: 'postgres-redis',
        env: { OTP_RESEND_COOLDOWN_SECONDS: '0', OTP_MAX_PER_HOUR: '1000' },
      });
    });
    afterAll(() => app?.close());

    it('answers a known and an unknown address with the same status, keys and median latency', async () => {
      const known = await signIn(app);
      const unknown = () => uniqueEmail('nobody');
      for (let i = 0; i < 5; i++) await Promise.all([send(app, known.email), send(app, unknown())]);

      // Interleaved pairs, compared pair by pair: a load spike on the machine slows both halves of
      // a pair, so it moves the latency but not the difference within the pair.
      const differences: number[] = [];
      const latencies: number[] = [];
      const shapes = new Set<string>();
      for (let i = 0; i < 40; i++) {
        const pair = { known: 0, unknown: 0 };
        for (const [kind, email] of (i % 2
          ? [
              ['known', known.email],
              ['unknown', unknown()],
            ]
          : [
              ['unknown', unknown()],
              ['known', known.email],
            ]) as [keyof typeof pair, string][]) {
          const started = process.hrtime.bigint();
          const response = await send(app, email);
          pair[kind] = Number(process.hrtime.bigint() - started) / 1e6;
          expect(response.status).toBe(202);
          shapes.add(Object.keys(response.body).sort().join(','));
        }
        differences.push(pair.known - pair.unknown);
        latencies.push(pair.known, pair.unknown);
      }
      expect(shapes.size).toBe(1);
      const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
      expect(Math.abs(median(differences)) / median(latencies)).toBeLessThan(0.2);
    });

    it('answers a wrong code the same whether or not the address has an account', async () => {
      const known = await signIn(app);
      const forKnown = await requestCode(app, known.email);
      const forUnknown = await requestCode(app, uniqueEmail('nobody'));
      const [a, b] = await Promise.all([
        verify(app, forKnown.sessionId, wrong(forKnown.code)),
        verify(app, forUnknown.sessionId, wrong(forUnknown.code)),
      ]);
      expect(a.status).toBe(b.status);
      expect(a.body.code).toBe(b.body.code);
      expect(Object.keys(a.body).sort()).toEqual(Object.keys(b.body).sort());
      expect(a.body.detail).toBe(b.body.detail);
    });
  });
});
