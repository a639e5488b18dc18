import { randomBytes } from 'node:crypto';
import { ThrottlerStorageService } from '@nestjs/throttler';
import Redis from 'ioredis';
import { RedisThrottlerStorage } from '../../src/store/redis-throttler.storage';
import { describeWith, TEST_REDIS_URL } from '../support/services';

const MINUTE = 60_000;

/** The leased Redis storage against @nestjs/throttler's own storage, on a real Redis. */
describeWith(['redis'], 'rate-limit counters in Redis, taken in leases', () => {
  let redis: Redis;
  const libraries: ThrottlerStorageService[] = [];
  const prefix = () => `test:${randomBytes(4).toString('hex')}:`;

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    for (const library of libraries) library.onApplicationShutdown();
    await redis.quit();
  });

  const library = () => {
    const storage = new ThrottlerStorageService();
    libraries.push(storage);
    return storage;
  };

  it.each([1, 2, 5, 30, 100, 1000, 5000])(
    'admits and refuses exactly as the library does on one instance, limit %i',
    async (limit) => {
      const ours = new RedisThrottlerStorage(redis, prefix());
      const theirs = library();
      const hits = limit + 20;
      const decide = async (storage: RedisThrottlerStorage | ThrottlerStorageService) => {
        const decisions: [number, boolean][] = [];
        for (let i = 0; i < hits; i++) {
          const hit = await storage.increment('global:203.0.113.9', MINUTE, limit, MINUTE, 'global');
          decisions.push([hit.isBlocked ? -1 : hit.totalHits, hit.isBlocked]);
        }
        return decisions;
      };
      expect(await decide(ours)).toEqual(await decide(theirs));
    },
  );

  it('counts every hit it takes in Redis before admitting it', async () => {
    const keyPrefix = prefix();
    const ours = new RedisThrottlerStorage(redis, keyPrefix);
    for (let i = 0; i < 100; i++) await ours.increment('global:203.0.113.9', MINUTE, 1_000_000, MINUTE, 'global');
    const counted = Number(await redis.get(`${keyPrefix}rl:global:{global:203.0.113.9}:hits`));
    expect(counted).toBeGreaterThanOrEqual(100);
    // Leases of 1, 2, 4… 64: at most one lease ahead of what was used.
    expect(counted).toBeLessThan(100 + 64);
  });

  it('never admits more than the limit across instances, and loses at most a lease per other instance', async () => {
    const keyPrefix = prefix();
    const instances = Array.from({ length: 3 }, () => new RedisThrottlerStorage(redis, keyPrefix));
    const limit = 3200;
    let admitted = 0;
    for (let i = 0; i < limit + 500; i++) {
      const instance = instances[Math.floor(Math.random() * instances.length)];
      const hit = await instance.increment('global:198.51.100.7', MINUTE, limit, MINUTE, 'global');
      if (!hit.isBlocked) admitted++;
    }
    expect(admitted).toBeLessThanOrEqual(limit);
    expect(admitted).toBeGreaterThanOrEqual(limit - 2 * (limit / 32));
  });

  it('takes one lease at a time for hits that arrive together, so none is stranded', async () => {
    const keyPrefix = prefix();
    const instances = Array.from({ length: 2 }, () => new RedisThrottlerStorage(redis, keyPrefix));
    const hit = (i: number) => instances[i % 2].increment('otp:198.51.100.8', MINUTE, 1000, MINUTE, 'otp');
    // Leases grow with sequential hits first; then 100 arrive at once.
    for (let i = 0; i < 40; i++) await hit(i);
    const hits = await Promise.all(Array.from({ length: 100 }, (_, i) => hit(i)));
    expect(hits.filter((hit) => hit.isBlocked)).toEqual([]);
    const counted = Number(await redis.get(`${keyPrefix}rl:otp:{otp:198.51.100.8}:hits`));
    // 1000 / 32: leases of at most 31 hits, at most one unused per instance.
    expect(counted).toBeLessThanOrEqual(140 + 2 * 31);
  });

  it('starts a new window with a lease of one, after the old window ends', async () => {
    let now = Date.now();
    const ours = new RedisThrottlerStorage(redis, prefix(), () => now);
    for (let i = 0; i < 10; i++) await ours.increment('otp:192.0.2.1', 1000, 1000, 1000, 'otp');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    now = Date.now();
    const first = await ours.increment('otp:192.0.2.1', 1000, 1000, 1000, 'otp');
    expect(first).toMatchObject({ totalHits: 1, isBlocked: false });
  });
});
