import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { JobLock, MemoryJobLock, RedisJobLock } from '../../src/store/job-lock';
import { FallbackJobLock } from '../../src/store/fallback-job-lock';
import { RedisFallback } from '../../src/store/redis-fallback';
import { StoreStatus } from '../../src/store/store-status';
import { describeWith, TEST_REDIS_URL } from '../support/services';

/** The same contract, both implementations; Redis with two instances sharing one lock. */
const IMPLEMENTATIONS: {
  name: string;
  needs: 'redis'[];
  create: () => { instances: [JobLock, JobLock]; cleanup: () => Promise<void> };
}[] = [
  {
    name: 'MemoryJobLock',
    needs: [],
    create: () => {
      const lock = new MemoryJobLock();
      return { instances: [lock, lock], cleanup: async () => undefined };
    },
  },
  {
    name: 'RedisJobLock',
    needs: ['redis'],
    create: () => {
      const prefix = `contract:${randomBytes(4).toString('hex')}:`;
      const clients = [new Redis(TEST_REDIS_URL), new Redis(TEST_REDIS_URL)];
      return {
        instances: [new RedisJobLock(clients[0], prefix), new RedisJobLock(clients[1], prefix)],
        cleanup: async () => {
          const keys = await clients[0].keys(`${prefix}*`);
          if (keys.length) await clients[0].del(...keys);
          clients.forEach((client) => client.disconnect());
        },
      };
    },
  },
];

const TTL = 60_000;

for (const implementation of IMPLEMENTATIONS) {
  describeWith(implementation.needs, `JobLock contract: ${implementation.name}`, () => {
    let a: JobLock;
    let b: JobLock;
    let cleanup: () => Promise<void>;
    beforeEach(() => {
      ({
        instances: [a, b],
        cleanup,
      } = implementation.create());
    });
    afterEach(() => cleanup());

    it('runs one job at a time', async () => {
      let release!: () => void;
      let holding!: () => void;
      const aHolds = new Promise<void>((resolve) => (holding = resolve));
      // A's job runs only once A holds the lock; B asks after that (its own connection could be faster).
      const running = a.runExclusive(
        'job',
        TTL,
        () => new Promise<string>((resolve) => ((release = () => resolve('a')), holding())),
      );
      await aHolds;
      expect(await b.runExclusive('job', TTL, async () => 'b')).toBeUndefined();
      expect(await b.runOncePerRound('job', 1, TTL, async () => 'b')).toBeUndefined();
      release();
      expect(await running).toBe('a');
      expect(await b.runExclusive('job', TTL, async () => 'b')).toBe('b');
    });

    it('runs a round once, even when the second holder asks after the first has finished', async () => {
      expect(await a.runOncePerRound('job', 1000, TTL, async () => 'a')).toBe('a');
      expect(await b.runOncePerRound('job', 1000, TTL, async () => 'b')).toBeUndefined();
      expect(await a.runOncePerRound('job', 1000, TTL, async () => 'a')).toBeUndefined();
    });

    it('runs a later round, never an earlier one', async () => {
      expect(await a.runOncePerRound('job', 2000, TTL, async () => 'a')).toBe('a');
      expect(await b.runOncePerRound('job', 1000, TTL, async () => 'b')).toBeUndefined();
      expect(await b.runOncePerRound('job', 3000, TTL, async () => 'b')).toBe('b');
    });

    it('keeps rounds of different jobs apart', async () => {
      expect(await a.runOncePerRound('one', 1000, TTL, async () => 'one')).toBe('one');
      expect(await b.runOncePerRound('two', 1000, TTL, async () => 'two')).toBe('two');
    });

    it('lets 20 concurrent claims of one round run it once', async () => {
      let runs = 0;
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).runOncePerRound('job', 5000, TTL, async () => runs++)),
      );
      expect(runs).toBe(1);
    });
  });
}

describeWith(['redis'], 'JobLock behind the Redis fallback (REDIS_FALLBACK=memory)', () => {
  let redis: Redis;
  let admin: Redis;
  let lock: JobLock;
  let warnings: jest.SpyInstance;
  const prefix = `fallback:${randomBytes(4).toString('hex')}:`;

  beforeEach(async () => {
    // A command that gets no answer within 50 ms fails, while the connection stays ready.
    redis = new Redis(TEST_REDIS_URL, { commandTimeout: 50 });
    admin = new Redis(TEST_REDIS_URL);
    await redis.ping();
    lock = new FallbackJobLock(
      new RedisJobLock(redis, prefix),
      new MemoryJobLock(),
      new RedisFallback(new StoreStatus(redis, 'memory')),
    );
    warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    redis.removeAllListeners('close'); // the status would report the disconnect as an outage
    redis.disconnect();
    warnings.mockRestore();
    await admin.client('UNPAUSE');
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length) await admin.del(...keys);
    admin.disconnect();
  });

  it("passes the job's own error through, without running the job again or calling it an outage", async () => {
    let runs = 0;
    const failure = new Error('relation "audit_events" does not exist');
    await expect(lock.runExclusive('job', TTL, async () => (runs++, Promise.reject(failure)))).rejects.toBe(failure);
    expect(runs).toBe(1);
    expect(warnings.mock.calls.flat().join(' ')).not.toContain('unreachable');
    expect(await admin.exists(`${prefix}lock:{job}`)).toBe(0);
  });

  it('takes the lock in memory when Redis does not answer, and runs the job once', async () => {
    await admin.client('PAUSE', 500);
    let runs = 0;
    expect(await lock.runExclusive('job', TTL, async () => ++runs)).toBe(1);
    expect(runs).toBe(1);
    expect(warnings.mock.calls.flat().join(' ')).toContain('Redis is unreachable');
  });
});
