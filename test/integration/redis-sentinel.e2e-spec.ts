import { requestCode, uniqueEmail } from '../support/factories';
import { MASTER_NAME, OwnRedisSentinel } from '../support/redis-sentinel';
import { describeWith } from '../support/services';
import { startTestApp, TestApp } from '../support/test-app';

describeWith(
  ['redis-server', 'postgres'],
  'Redis Sentinel of real redis-server processes (master, replica, sentinel)',
  () => {
    const sentinel = new OwnRedisSentinel();
    let app: TestApp;

    beforeAll(async () => {
      await sentinel.start();
      app = await startTestApp({
        backend: 'postgres-redis',
        // Only configuration: REDIS_SENTINELS wins over the REDIS_URL of the test deployment.
        env: {
          REDIS_SENTINELS: sentinel.sentinels,
          REDIS_SENTINEL_NAME: MASTER_NAME,
          OTP_RESEND_COOLDOWN_SECONDS: '0',
        },
      });
    }, 60_000);
    afterAll(async () => {
      await app?.close();
      await sentinel.stop();
    });

    it('finds the master through the sentinel and keeps its state there', async () => {
      expect(app.config.redis?.sentinel).toMatchObject({ name: MASTER_NAME });
      const ready = await app.request('GET', '/health/ready');
      expect(ready.body.details.otpStore).toMatchObject({ status: 'up', kind: 'redis' });
      await requestCode(app, uniqueEmail('sentinel'));
      const [master] = sentinel.dataPorts;
      expect(await sentinel.keys(master, `${app.env.REDIS_KEY_PREFIX}*:login`)).not.toHaveLength(0);
    });

    it('follows a failover: a code issued before it verifies after it, and new state goes to the new master', async () => {
      const before = await requestCode(app, uniqueEmail('before-failover'));
      const newMaster = await sentinel.failover();

      // A login issued now is in Redis on the new master (a fallback to memory would leave it out).
      const logins = () => sentinel.keys(newMaster, `${app.env.REDIS_KEY_PREFIX}*:login`);
      const loginsBefore = (await logins()).length;
      let after = await requestCode(app, uniqueEmail('after-failover'));
      // The sentinel tells clients of the switch; while this one reconnects, its requests are
      // answered as during any Redis outage (REDIS_FALLBACK: here from memory), never with a 5xx.
      for (const deadline = Date.now() + 10_000; (await logins()).length === loginsBefore;) {
        if (Date.now() > deadline) throw new Error('no login reached the new master within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
        after = await requestCode(app, uniqueEmail('after-failover')); // throws on anything but 202
      }
      expect(
        (
          await app.request('POST', '/api/v1/auth/otp/verify', {
            json: { sessionId: after.sessionId, code: after.code },
          })
        ).status,
      ).toBe(200);
      // The replica had the earlier login (the failover waited for it), so it survived the switch.
      expect(
        (
          await app.request('POST', '/api/v1/auth/otp/verify', {
            json: { sessionId: before.sessionId, code: before.code },
          })
        ).status,
      ).toBe(200);
      const ready = await app.request('GET', '/health/ready');
      expect(ready.body.details.otpStore).toMatchObject({ status: 'up', kind: 'redis' });
    });
  },
);
