import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/**
 * redis-server processes of a test's own, their files in one temporary directory. Should jest die
 * without running afterAll, they are killed with it rather than outliving it.
 */
export class RedisServers {
  readonly dir: string;
  private readonly processes: ChildProcess[] = [];
  private readonly killOnExit = () => this.processes.forEach((child) => child.kill('SIGKILL'));

  constructor(label: string) {
    this.dir = mkdtempSync(join(tmpdir(), `otp-${label}-`));
    process.once('exit', this.killOnExit);
  }

  spawn(args: string[]): ChildProcess {
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.processes.push(child);
    return child;
  }

  /** Kills one without warning, as a crashed host would. */
  async kill(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }

  async stop(): Promise<void> {
    process.removeListener('exit', this.killOnExit);
    await Promise.all(this.processes.map((child) => this.kill(child)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One command on a connection of its own to the server on a loopback port. */
export async function redisCommand(port: number, command: string, ...args: string[]): Promise<unknown> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await client.connect();
    return await client.call(command, ...args);
  } finally {
    client.disconnect();
  }
}
