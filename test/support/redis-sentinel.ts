import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts, waitUntil } from './app-process';
import { redisCommand, RedisServers } from './redis-servers';

export const MASTER_NAME = 'mymaster';

/**
 * A master, one replica and one Sentinel watching them: three real redis-server processes on
 * free loopback ports, files in a temporary directory. Never the machine's shared Redis.
 */
export class OwnRedisSentinel {
  /** [first master, first replica]; after a failover the replica is the master. */
  readonly dataPorts: number[] = [];
  sentinelPort = 0;
  private servers?: RedisServers;

  /** The REDIS_SENTINELS value. */
  get sentinels(): string {
    return `127.0.0.1:${this.sentinelPort}`;
  }

  async start(): Promise<void> {
    const servers = (this.servers = new RedisServers('redis-sentinel'));
    const { dir } = servers;
    const [master, replica, sentinel] = await freePorts(3);
    this.dataPorts.push(master, replica);
    this.sentinelPort = sentinel;
    const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
    servers.spawn(['--port', String(master), ...common]);
    servers.spawn(['--port', String(replica), ...common, '--replicaof', '127.0.0.1', String(master)]);
    // Sentinel rewrites its configuration file, so it gets one of its own.
    const config = join(dir, 'sentinel.conf');
    writeFileSync(
      config,
      [
        `port ${sentinel}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master} 1`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
        `sentinel failover-timeout ${MASTER_NAME} 10000`,
        '',
      ].join('\n'),
    );
    servers.spawn([config, '--sentinel']);
    await waitUntil(
      async () => (await this.info(replica, 'replication')).includes('master_link_status:up'),
      'the replica to follow the master',
      20_000,
    );
    await waitUntil(
      async () => (await this.info(sentinel, 'sentinel')).includes('slaves=1'),
      'the sentinel to see the replica',
      20_000,
    );
  }

  /** The master's port as the sentinel tells it. */
  async masterPort(): Promise<number> {
    const [, port] = (await redisCommand(
      this.sentinelPort,
      'SENTINEL',
      'GET-MASTER-ADDR-BY-NAME',
      MASTER_NAME,
    )) as string[];
    return Number(port);
  }

  /** Promotes the replica, as Sentinel does when the master fails, and waits until the sentinel names it. */
  async failover(): Promise<number> {
    const before = await this.masterPort();
    // What the master acknowledged must be on the replica first: WAIT for it.
    await redisCommand(before, 'WAIT', '1', '5000');
    await redisCommand(this.sentinelPort, 'SENTINEL', 'FAILOVER', MASTER_NAME);
    const after = this.dataPorts.find((port) => port !== before)!;
    await waitUntil(
      async () =>
        (await this.masterPort()) === after && (await this.info(after, 'replication')).includes('role:master'),
      'the replica to become master',
      20_000,
    );
    return after;
  }

  async keys(port: number, pattern: string): Promise<string[]> {
    return (await redisCommand(port, 'KEYS', pattern)) as string[];
  }

  async stop(): Promise<void> {
    await this.servers?.stop();
  }

  private async info(port: number, section: string): Promise<string> {
    return String(await redisCommand(port, 'INFO', section).catch(() => ''));
  }
}
