import { randomBytes, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { RedisChangeFeed } from '../../src/store/change-feed';
import { RedisRevocationList } from '../../src/store/redis-revocation-list';
import { ProfileCache } from '../../src/users/profile-cache';
import { User } from '../../src/users/user.entity';
import { waitUntil } from '../support/app-process';
import { describeWith, TEST_REDIS_URL } from '../support/services';

const MINUTE = 60_000;

/** One instance's view of the shared Redis: its command connection, its subscriber, its feed. */
function instance(prefix: string) {
  const redis = new Redis(TEST_REDIS_URL);
  const subscriber = redis.duplicate();
  const feed = new RedisChangeFeed(redis, subscriber, prefix);
  return { redis, subscriber, feed, close: () => [redis, subscriber].forEach((connection) => connection.disconnect()) };
}

const user = (id: string, name: string): User => ({
  id,
  email: `${id}@example.com`,
  name,
  lastSubmittedFormData: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  lastLoginAt: null,
});

describeWith(['redis'], 'the change feed on a real Redis: copies kept in memory stay right', () => {
  let prefix: string;
  let instances: ReturnType<typeof instance>[];
  beforeEach(() => {
    prefix = `test:${randomBytes(4).toString('hex')}:`;
    instances = [instance(prefix), instance(prefix)];
  });
  afterEach(async () => {
    const keys = await instances[0].redis.keys(`${prefix}*`);
    if (keys.length) await instances[0].redis.del(...keys);
    for (const one of instances) one.close();
  });

  it('carries a revocation made on one instance to the other’s copy, which then answers without Redis', async () => {
    const [a, b] = instances;
    const [onA, onB] = [
      new RedisRevocationList(a.redis, a.feed, prefix),
      new RedisRevocationList(b.redis, b.feed, prefix),
    ];
    await waitUntil(async () => a.feed.inSync && b.feed.inSync, 'both feeds in sync');
    const sessionId = randomUUID();
    await onA.revoke(sessionId, Date.now() + MINUTE, Date.now());
    await waitUntil(async () => onB.isRevoked(sessionId, Date.now()), 'the revocation on B');

    b.redis.disconnect();
    expect(await onB.isRevoked(sessionId, Date.now())).toBe(true);
    expect(await onB.isRevoked(randomUUID(), Date.now())).toBe(false);
  });

  it('asks Redis, not its copy, once its subscription is lost: a revocation made meanwhile is honoured', async () => {
    const [a, b] = instances;
    const [onA, onB] = [
      new RedisRevocationList(a.redis, a.feed, prefix),
      new RedisRevocationList(b.redis, b.feed, prefix),
    ];
    await waitUntil(async () => a.feed.inSync && b.feed.inSync, 'both feeds in sync');

    b.subscriber.disconnect();
    await waitUntil(async () => !b.feed.inSync, 'B to notice its subscription is gone');
    const sessionId = randomUUID();
    await onA.revoke(sessionId, Date.now() + MINUTE, Date.now());
    expect(await onB.isRevoked(sessionId, Date.now())).toBe(true);
  });

  it('drops on every instance a profile changed on one, and caches nothing while out of sync', async () => {
    const [a, b] = instances;
    const [cacheA, cacheB] = [new ProfileCache(a.feed), new ProfileCache(b.feed)];
    await waitUntil(async () => a.feed.inSync && b.feed.inSync, 'both feeds in sync');
    const rows = new Map([['u1', user('u1', 'Ada')]]);
    let loads = 0;
    const load = async () => (loads++, rows.get('u1') ?? null);

    expect((await cacheB.read('u1', load))?.name).toBe('Ada');
    expect((await cacheB.read('u1', load))?.name).toBe('Ada');
    expect(loads).toBe(1);

    rows.set('u1', user('u1', 'Grace'));
    await cacheA.changed('u1');
    await waitUntil(async () => (await cacheB.read('u1', load))?.name === 'Grace', 'B to read the change');

    b.subscriber.disconnect();
    await waitUntil(async () => !b.feed.inSync, 'B to notice its subscription is gone');
    const before = loads;
    await cacheB.read('u1', load);
    await cacheB.read('u1', load);
    expect(loads).toBe(before + 2);
  });
});
