import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { MemoryOtpStore } from '../../src/store/memory-otp.store';
import { RedisOtpStore } from '../../src/store/redis-otp.store';
import { otpStoreContract, OtpStoreUnderTest } from '../support/otp-store-contract';
import { describeWith, TEST_REDIS_URL } from '../support/services';

/** The same contract, every implementation: the memory store and a real Redis (a Redis Cluster in redis-cluster.e2e-spec.ts). */
const IMPLEMENTATIONS: { name: string; needs: 'redis'[]; create: () => OtpStoreUnderTest }[] = [
  {
    name: 'MemoryOtpStore',
    needs: [],
    create: () => ({ store: new MemoryOtpStore(), cleanup: async () => undefined }),
  },
  {
    name: 'RedisOtpStore',
    needs: ['redis'],
    create: () => {
      const prefix = `contract:${randomBytes(4).toString('hex')}:`;
      const redis = new Redis(TEST_REDIS_URL);
      return {
        store: new RedisOtpStore(redis, prefix),
        cleanup: async () => {
          const keys = await redis.keys(`${prefix}*`);
          if (keys.length) await redis.del(...keys);
          redis.disconnect();
        },
      };
    },
  },
];

for (const implementation of IMPLEMENTATIONS) {
  describeWith(implementation.needs, `OtpStore contract: ${implementation.name}`, () =>
    otpStoreContract(implementation.create),
  );
}
