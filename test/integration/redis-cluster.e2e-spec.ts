import { randomBytes, randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { loadConfig } from '../../src/config/app-config';
import { RedisChangeFeed } from '../../src/store/change-feed';
import { JobLock, RedisJobLock } from '../../src/store/job-lock';
import { RedisOtpStore } from '../../src/store/redis-otp.store';
import { RedisRevocationList } from '../../src/store/redis-revocation-list';
import { RedisThrottlerStorage } from '../../src/store/redis-throttler.storage';
import { createRedisClient } from '../../src/store/store.module';
import { requestCode, uniqueEmail } from '../support/factories';
import { otpStoreContract } from '../support/otp-store-contract';
import { hashTagOf, keysByNode, OwnRedisCluster } from '../support/redis-cluster';
import { describeWith } from '../support/services';
import { startTestApp, TestApp } from '../support/test-app';

const MASTERS = 3;
const MINUTE = 60_000;

/** A client as the application builds it, from REDIS_CLUSTER_NODES. */
function clusterClient(seedList: string): Cluster {
  const client = createRedisClient(loadConfig({ REDIS_CLUSTER_NODES: seedList }).redis!);
  if (!(client instanceof Cluster)) throw new Error('REDIS_CLUSTER_NODES did not give a Cluster client');
  return client;
}

/** Keys grouped by hash tag, each with the masters that hold them. */
async function keysByHashTag(
  client: Cluster,
  pattern: string,
): Promise<Map<string, { keys: string[]; nodes: Set<string> }>> {
  const groups = new Map<string, { keys: string[]; nodes: Set<string> }>();
  for (const [key, node] of await keysByNode(client, pattern)) {
    const group = groups.get(hashTagOf(key)) ?? { keys: [], nodes: new Set<string>() };
    group.keys.push(key);
    group.nodes.add(node);
    groups.set(hashTagOf(key), group);
  }
  return groups;
}

function nodesUsed(groups: Map<string, { nodes: Set<string> }>): number {
  return new Set([...groups.values()].flatMap((group) => [...group.nodes])).size;
}

const newPrefix = (label: string) => `${label}:${randomBytes(4).toString('hex')}:`;

describeWith(['redis-server'], `Redis Cluster of ${MASTERS} real redis-server processes`, () => {
  const cluster = new OwnRedisCluster(MASTERS);
  let client: Cluster;

  beforeAll(async () => {
    await cluster.start();
    client = clusterClient(cluster.seedList);
  }, 60_000);
  afterAll(async () => {
    client?.disconnect();
    await cluster.stop();
  });

  it('is a cluster of separate masters, reached through REDIS_CLUSTER_NODES', async () => {
    await client.ping();
    expect(client.nodes('master')).toHaveLength(MASTERS);
    expect(String(await client.cluster('INFO'))).toContain('cluster_state:ok');
  });

  describe('OtpStore contract on the cluster', () => {
    otpStoreContract(() => ({
      store: new RedisOtpStore(client, newPrefix('contract')),
      cleanup: async () => undefined,
    }));
  });

  it('spreads addresses over every master and keeps all keys of an address on one', async () => {
    const prefix = newPrefix('spread');
    const store = new RedisOtpStore(client, prefix);
    const now = Date.now();
    const limits = { cooldownMs: MINUTE, maxPerHour: 5, maxLiveCodes: 3, maxAttempts: 5 };
    await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const address = randomBytes(12).toString('base64url');
        await store.startLogin(
          address,
          `login-${i}`,
          `user${i}@example.com`,
          { hash: 'h', expiresAt: now + MINUTE },
          limits,
          now,
        );
        await store.verify(
          address,
          `login-${i}`,
          'wrong',
          { maxFailed: 20, windowMs: MINUTE, firstLockMs: MINUTE, maxLockMs: MINUTE, maxInARow: 100 },
          now,
        );
      }),
    );

    const addresses = await keysByHashTag(client, `${prefix}*`);
    expect(addresses.size).toBe(300);
    for (const { keys, nodes } of addresses.values()) {
      expect(keys.map((key) => key.slice(key.lastIndexOf(':') + 1)).sort()).toEqual([
        'cooldown',
        'failure-budget',
        'login',
        'sends',
      ]);
      expect(nodes.size).toBe(1);
    }
    expect(nodesUsed(addresses)).toBe(MASTERS);
  });

  it('keeps the per-IP hit and block counters of the throttler on one slot', async () => {
    const prefix = newPrefix('throttle');
    const storage = new RedisThrottlerStorage(client, prefix);
    const ips = Array.from({ length: 60 }, (_, i) => `198.51.100.${i}`);
    for (const ip of ips) {
      const hits = [];
      for (let i = 0; i < 3; i++) hits.push(await storage.increment(`otp:${ip}`, MINUTE, 2, MINUTE, 'otp'));
      expect(hits.map((hit) => [hit.totalHits, hit.isBlocked])).toEqual([
        [1, false],
        [2, false],
        [3, true],
      ]);
      expect((await storage.increment(`otp:${ip}`, MINUTE, 2, MINUTE, 'otp')).isBlocked).toBe(true);
    }

    const counters = await keysByHashTag(client, `${prefix}*`);
    expect(counters.size).toBe(ips.length);
    for (const { keys, nodes } of counters.values()) {
      expect(keys.map((key) => key.slice(key.lastIndexOf(':') + 1)).sort()).toEqual(['block', 'hits']);
      expect(nodes.size).toBe(1);
    }
    expect(nodesUsed(counters)).toBeGreaterThan(1);
  });

  it('shares revocations between instances: one sorted set, and pub/sub to every mirror', async () => {
    const prefix = newPrefix('revoked');
    const [otherInstance, subscriberA, subscriberB] = [
      clusterClient(cluster.seedList),
      client.duplicate(),
      client.duplicate(),
    ];
    try {
      const a = new RedisRevocationList(client, new RedisChangeFeed(client, subscriberA, prefix), prefix);
      const b = new RedisRevocationList(otherInstance, new RedisChangeFeed(otherInstance, subscriberB, prefix), prefix);
      const now = Date.now();
      const early = randomUUID();
      await a.revoke(early, now + MINUTE, now);
      expect(await b.isRevoked(early, Date.now())).toBe(true);

      // Once B's mirror is loaded it answers without its command connection.
      await new Promise((resolve) => setTimeout(resolve, 300));
      otherInstance.disconnect();
      const revoked = Array.from({ length: 20 }, () => randomUUID());
      for (const sessionId of revoked) await a.revoke(sessionId, now + MINUTE, now);
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (const sessionId of [early, ...revoked]) expect(await b.isRevoked(sessionId, Date.now())).toBe(true);
      expect(await b.isRevoked(randomUUID(), Date.now())).toBe(false);
      expect(await b.isRevoked(early, now + 2 * MINUTE)).toBe(false);
      expect([...(await keysByNode(client, `${prefix}*`)).keys()]).toEqual([`${prefix}revoked-sessions`]);
    } finally {
      for (const connection of [otherInstance, subscriberA, subscriberB]) connection.disconnect();
    }
  });

  it('lets one instance at a time hold a job lock, and releases it with its script', async () => {
    const prefix = newPrefix('lock');
    const otherInstance = clusterClient(cluster.seedList);
    try {
      const [first, second]: JobLock[] = [new RedisJobLock(client, prefix), new RedisJobLock(otherInstance, prefix)];
      let finishJob!: () => void;
      const running = first.runExclusive(
        'cleanup',
        MINUTE,
        () => new Promise<string>((resolve) => (finishJob = () => resolve('first ran'))),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));

      expect(await second.runExclusive('cleanup', MINUTE, async () => 'second ran')).toBeUndefined();
      finishJob();
      expect(await running).toBe('first ran');
      expect(await client.exists(`${prefix}lock:{cleanup}`)).toBe(0);
      expect(await second.runExclusive('cleanup', MINUTE, async () => 'second ran')).toBe('second ran');

      // A round's claim touches the lock and the round key in one script: one slot.
      expect(await first.runOncePerRound('cleanup', 7, MINUTE, async () => 'first ran round 7')).toBe(
        'first ran round 7',
      );
      expect(await second.runOncePerRound('cleanup', 7, MINUTE, async () => 'second ran round 7')).toBeUndefined();
      expect(await second.runOncePerRound('cleanup', 8, MINUTE, async () => 'second ran round 8')).toBe(
        'second ran round 8',
      );
    } finally {
      otherInstance.disconnect();
    }
  });

  describeWith(['postgres'], 'the application on PostgreSQL and the cluster', () => {
    let app: TestApp;
    const fromIp = (ip: string) => ({ 'x-forwarded-for': ip });

    beforeAll(async () => {
      app = await startTestApp({
        backend: 'postgres-redis',
        redisClusterNodes: cluster.seedList,
        env: { TRUST_PROXY: '1', RATE_LIMIT_PER_IP_PER_MINUTE: '5', OTP_RESEND_COOLDOWN_SECONDS: '0' },
      });
    }, 60_000);
    afterAll(() => app?.close());

    it('reports the cluster as its ready OTP store', async () => {
      expect(app.config.redis?.cluster?.nodes).toHaveLength(MASTERS);
      const ready = await app.request('GET', '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.details.otpStore).toMatchObject({ status: 'up', kind: 'redis' });
    });

    it('signs in, serves the user, logs out and refuses the revoked token', async () => {
      const ip = fromIp('203.0.113.1');
      const email = uniqueEmail('cluster');
      const { sessionId, code } = await requestCode(app, email, ip);

      const login = await keysByHashTag(client, `${app.env.REDIS_KEY_PREFIX}*`);
      const [addressKeys] = [...login.values()].filter((group) => group.keys.some((key) => key.endsWith(':login')));
      expect(addressKeys.keys.length).toBeGreaterThanOrEqual(2);
      expect(addressKeys.nodes.size).toBe(1);

      const verified = await app.request('POST', '/api/v1/auth/otp/verify', { json: { sessionId, code }, headers: ip });
      expect(verified.status).toBe(200);
      const bearer = { authorization: `Bearer ${verified.body.accessToken}` };

      const me = await app.request('GET', '/api/v1/users/me', { headers: bearer });
      expect(me.status).toBe(200);
      expect(me.body.email).toBe(email);

      expect((await app.request('POST', '/api/v1/auth/logout', { headers: bearer })).status).toBe(204);
      expect((await app.request('GET', '/api/v1/users/me', { headers: bearer })).status).toBe(401);
      expect(await client.zcard(`${app.env.REDIS_KEY_PREFIX}revoked-sessions`)).toBe(1);
    });

    it('answers 429 once a client IP has spent its budget, counted in the cluster', async () => {
      const ip = '203.0.113.99';
      for (let i = 0; i < 5; i++) {
        expect(
          (
            await app.request('POST', '/api/v1/auth/otp', {
              json: { email: uniqueEmail('budget') },
              headers: fromIp(ip),
            })
          ).status,
        ).toBe(202);
      }
      const refused = await app.request('POST', '/api/v1/auth/otp', {
        json: { email: uniqueEmail('budget') },
        headers: fromIp(ip),
      });
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe('rate_limited');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

      const counters = await keysByHashTag(client, `${app.env.REDIS_KEY_PREFIX}rl:otp:*`);
      const ofThisIp = counters.get(`otp:${ip}`);
      expect(ofThisIp?.keys.sort()).toEqual([
        `${app.env.REDIS_KEY_PREFIX}rl:otp:{otp:${ip}}:block`,
        `${app.env.REDIS_KEY_PREFIX}rl:otp:{otp:${ip}}:hits`,
      ]);
      expect(ofThisIp?.nodes.size).toBe(1);
    });

    // Last: it takes a master down for good.
    it('serves from memory, never a 500, once a master is lost and the cluster is down', async () => {
      await cluster.kill(0);
      await cluster.waitForState(cluster.ports[1], 'fail');
      const responses = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          app.request('POST', '/api/v1/auth/otp', {
            json: { email: uniqueEmail('outage') },
            headers: fromIp(`203.0.113.${200 + i}`),
          }),
        ),
      );
      expect(responses.map((response) => response.status)).toEqual(Array(6).fill(202));
      const ready = await app.request('GET', '/health/ready');
      expect(ready.body).toMatchObject({
        status: 'degraded',
        details: { otpStore: { status: 'degraded', kind: 'redis', fallback: 'memory' } },
      });
    });
  });
});
