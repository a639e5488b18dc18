import { ReplyError } from 'ioredis';
import { UnavailableError } from '../common/unavailable.error';
import { FallbackJobLock } from './fallback-job-lock';
import { JobLock, MemoryJobLock } from './job-lock';
import { RedisFallback, StoreUnavailableError } from './redis-fallback';

/** The part of StoreStatus the rule reads and tells, recorded. */
function storeStatus(fallback: 'memory' | 'fail', redisReady = true) {
  return {
    redisReady,
    fallback,
    served: 0,
    outages: [] as string[],
    noteServed() {
      this.served++;
    },
    noteOutage(reason: string) {
      this.outages.push(reason);
    },
  };
}

const reply = (message: string): Error => new ReplyError(message);
const connectionError = () => new Error('Connection is closed.');
const fromRedis = (outcome: () => Promise<string>) => () => outcome();
const fromMemory = async () => 'memory';

describe('RedisFallback', () => {
  it('answers from Redis while it is ready, noting that it served', async () => {
    const status = storeStatus('memory');
    const sut = new RedisFallback(status);
    expect(await sut.run(async () => 'redis', fromMemory)).toBe('redis');
    expect(status.served).toBe(1);
    expect(status.outages).toEqual([]);
  });

  it.each([
    ['a connection problem', connectionError()],
    ['a cluster without a master', reply('CLUSTERDOWN The cluster is down')],
    ['a demoted master', reply("READONLY You can't write against a read only replica.")],
    ['a node still loading', reply('LOADING Redis is loading the dataset in memory')],
  ])('notes an outage on %s and answers from memory', async (_, error) => {
    const status = storeStatus('memory');
    const sut = new RedisFallback(status);
    expect(
      await sut.run(
        fromRedis(() => Promise.reject(error)),
        fromMemory,
      ),
    ).toBe('memory');
    expect(status.outages).toEqual([error.message]);
    expect(status.served).toBe(0);
  });

  it('passes an error of the command or script itself through, without calling it an outage', async () => {
    const status = storeStatus('memory');
    const sut = new RedisFallback(status);
    const error = reply('ERR user_script:3: attempt to compare nil with number');
    let memoryCalls = 0;
    await expect(
      sut.run(
        () => Promise.reject(error),
        async () => `memory ${++memoryCalls}`,
      ),
    ).rejects.toBe(error);
    expect(memoryCalls).toBe(0);
    expect(status.outages).toEqual([]);
  });

  it('does not try Redis while it is not ready', async () => {
    const sut = new RedisFallback(storeStatus('memory', false));
    let redisCalls = 0;
    expect(await sut.run(async () => `redis ${++redisCalls}`, fromMemory)).toBe('memory');
    expect(redisCalls).toBe(0);
  });

  it('refuses with StoreUnavailableError, not memory, when REDIS_FALLBACK=fail', async () => {
    const status = storeStatus('fail');
    const sut = new RedisFallback(status);
    let memoryCalls = 0;
    const refused = sut.run(
      () => Promise.reject(connectionError()),
      async () => `memory ${++memoryCalls}`,
    );
    await expect(refused).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(refused).rejects.toMatchObject({ retryAfterSeconds: 5 });
    await expect(refused).rejects.toBeInstanceOf(UnavailableError);
    expect(memoryCalls).toBe(0);
    expect(status.outages).toEqual(['Connection is closed.']);

    status.redisReady = false;
    await expect(sut.run(async () => 'redis', fromMemory)).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

/** A lock whose claim fails as the Redis one's does when Redis is unreachable. */
class LockThatCannotClaim extends JobLock {
  async runExclusive<T>(): Promise<T | undefined> {
    throw connectionError();
  }
  async runOncePerRound<T>(): Promise<T | undefined> {
    throw connectionError();
  }
}

describe('FallbackJobLock', () => {
  it("passes the job's own error through: the job is not run again on memory, nor is it an outage", async () => {
    const status = storeStatus('memory');
    const sut = new FallbackJobLock(new MemoryJobLock(), new MemoryJobLock(), new RedisFallback(status));
    const failure = new Error('Connection terminated unexpectedly'); // the job's database, not Redis
    let runs = 0;
    await expect(sut.runExclusive('job', 1000, async () => (runs++, Promise.reject(failure)))).rejects.toBe(failure);
    await expect(sut.runOncePerRound('job', 1, 1000, async () => (runs++, Promise.reject(failure)))).rejects.toBe(
      failure,
    );
    expect(runs).toBe(2);
    expect(status.outages).toEqual([]);
  });

  it('runs the job once, on the memory lock, when the Redis lock could not be claimed', async () => {
    const status = storeStatus('memory');
    const sut = new FallbackJobLock(new LockThatCannotClaim(), new MemoryJobLock(), new RedisFallback(status));
    let runs = 0;
    expect(await sut.runExclusive('job', 1000, async () => ++runs)).toBe(1);
    expect(await sut.runOncePerRound('job', 1, 1000, async () => ++runs)).toBe(2);
    expect(runs).toBe(2);
    expect(status.outages).toEqual(['Connection is closed.', 'Connection is closed.']);
  });
});
