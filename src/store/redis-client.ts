import type { Cluster, Redis } from 'ioredis';

/** A single Redis (direct or through Sentinel) or a Redis Cluster: the stores use only what both offer. */
export type RedisClient = Redis | Cluster;
