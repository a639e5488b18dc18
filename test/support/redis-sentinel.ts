import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePorts, waitUntil } from './app-process';

export const MASTER_NAME = 'mymaster';

/**
 * A master, one replica and one Sentinel watching them: three real redis-server processes on
 * free loopback ports, files in a temporary directory. Never the machine's shared Redis.
 */
export class OwnRedisSentinel {
  /** [first master, first replica]; after a failover the replica is the master. */
  readonly dataPorts: number[] = [];
  sentinelPort = 0;
  private readonly processes: ChildProcess[] = [];
  private dir?: string;
  private readonly killOnExit = () => this.processes.forEach((child) => child.kill('SIGKILL'));

  /** The REDIS_SENTINELS value. */
  get sentinels(): string {
    return `127.0.0.1:${this.sentinelPort}`;
  }

  async start(): Promise<void> {
    const dir = (this.dir = mkdtempSync(join(tmpdir(), 'otp-redis-sentinel-')));
    process.once('exit', this.killOnExit);
    const [master, replica, sentinel] = await freePorts(3);
    this.dataPorts.push(master, replica);
    this.sentinelPort = sentinel;
    const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
    this.spawn(['--port', String(master), ...common]);
    this.spawn(['--port', String(replica), ...common, '--replicaof', '127.0.0.1', String(master)]);
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
    this.spawn([config, '--sentinel']);
    await waitUntil(async () => (await this.info(replica, 'replication')).includes('master_link_status:up'), 'the replica to follow the master', 20_000);
    await waitUntil(async () => (await this.info(sentinel, 'sentinel')).includes('slaves=1'), 'the sentinel to see the replica', 20_000);
  }

  /** The master's port as the sentinel tells it. */
  async masterPort(): Promise<number> {
    const [, port] = (await this.command(this.sentinelPort, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as string[];
    return Number(port);
  }

  /** Promotes the replica, as Sentinel does when the master fails, and waits until the sentinel names it. */
  async failover(): Promise<number> {
    const before = await this.masterPort();
    // What the master acknowledged must be on the replica first: WAIT for it.
    await this.command(before, 'WAIT', '1', '5000');
    await this.command(this.sentinelPort, 'SENTINEL', 'FAILOVER', MASTER_NAME);
    const after = this.dataPorts.find((port) => port !== before)!;
    await waitUntil(async () => (await this.masterPort()) === after && (await this.info(after, 'replication')).includes('role:master'), 'the replica to become master', 20_000);
    return after;
  }

  async keys(port: number, pattern: string): Promise<string[]> {
    return (await this.command(port, 'KEYS', pattern)) as string[];
  }

  async stop(): Promise<void> {
    process.removeListener('exit', this.killOnExit);
    await Promise.all(
      this.processes.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGKILL');
        await once(child, 'exit');
      }),
    );
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  private spawn(args: string[]): void {
    this.processes.push(spawn('redis-server', args, { stdio: 'ignore' }));
  }

  private async info(port: number, section: string): Promise<string> {
    return String(await this.command(port, 'INFO', section).catch(() => ''));
  }

  private async command(port: number, ...args: string[]): Promise<unknown> {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await client.connect();
      return await client.call(args[0], ...args.slice(1));
    } finally {
      client.disconnect();
    }
  }
}
