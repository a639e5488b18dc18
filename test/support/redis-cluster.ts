import { ChildProcess, execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { waitUntil } from './app-process';
import { redisCommand, RedisServers } from './redis-servers';

/** How long a silent master takes to be declared failed: short, the suite kills one on purpose. */
const NODE_TIMEOUT_MS = 2000;

/** Every node also listens on its cluster bus port, its client port + 10000. */
const BUS_PORT_OFFSET = 10_000;

/**
 * A Redis Cluster of the test's own: `size` masters (no replicas), each a real redis-server on a
 * free loopback port, its files in a temporary directory. Never the machine's shared Redis.
 */
export class OwnRedisCluster {
  readonly ports: number[] = [];
  private readonly nodes: ChildProcess[] = [];
  private servers?: RedisServers;

  constructor(private readonly size = 3) {}

  /** The REDIS_CLUSTER_NODES value. */
  get seedList(): string {
    return this.ports.map((port) => `127.0.0.1:${port}`).join(',');
  }

  async start(): Promise<void> {
    const servers = (this.servers = new RedisServers('redis-cluster'));
    for (let i = 0; i < this.size; i++) {
      const port = await freeClusterPort(this.ports);
      this.ports.push(port);
      this.nodes.push(
        servers.spawn([
          ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', servers.dir],
          ...[
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(servers.dir, `nodes-${port}.conf`),
            '--cluster-node-timeout',
            String(NODE_TIMEOUT_MS),
          ],
        ]),
      );
    }
    await Promise.all(
      this.ports.map((port, i) =>
        waitUntil(() => this.answers(port, i), `redis-server on port ${port} to answer`, 20_000),
      ),
    );
    await promisify(execFile)(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...this.ports.map((port) => `127.0.0.1:${port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      {
        timeout: 30_000,
      },
    );
    await Promise.all(this.ports.map((port) => this.waitForState(port, 'ok')));
  }

  /** Kills the node at `index` without warning, as a crashed host would. */
  async kill(index: number): Promise<void> {
    await this.servers?.kill(this.nodes[index]);
  }

  async waitForState(port: number, state: 'ok' | 'fail'): Promise<void> {
    await waitUntil(
      async () => (await this.clusterInfo(port)).includes(`cluster_state:${state}`),
      `cluster_state:${state} on port ${port}`,
      20_000,
    );
  }

  async stop(): Promise<void> {
    await this.servers?.stop();
  }

  private async answers(port: number, index: number): Promise<boolean> {
    const child = this.nodes[index];
    if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with code ${child.exitCode}`);
    return (await this.clusterInfo(port)) !== '';
  }

  private async clusterInfo(port: number): Promise<string> {
    return String(await redisCommand(port, 'CLUSTER', 'INFO').catch(() => ''));
  }
}

/** Every key matching `pattern`, with the master ("host:port") that holds it. */
export async function keysByNode(cluster: Cluster, pattern: string): Promise<Map<string, string>> {
  const located = new Map<string, string>();
  for (const node of cluster.nodes('master')) {
    const name = `${node.options.host}:${node.options.port}`;
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      for (const key of keys) located.set(key, name);
      cursor = next;
    } while (cursor !== '0');
  }
  return located;
}

/** What Redis Cluster hashes: the text between the first `{` and the next `}`, if not empty. */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  const close = key.indexOf('}', open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
}

/** A port that is free, and whose cluster bus port is too. */
async function freeClusterPort(taken: number[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnce(0);
    const bus = port + BUS_PORT_OFFSET;
    const clashes = taken.some((other) =>
      [other, other + BUS_PORT_OFFSET].some((used) => used === port || used === bus),
    );
    if (
      bus <= 65_535 &&
      !clashes &&
      (await listenOnce(bus).then(
        () => true,
        () => false,
      ))
    )
      return port;
  }
  throw new Error('no free port pair for a cluster node');
}

async function listenOnce(port: number): Promise<number> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening'); // rejects on 'error', e.g. EADDRINUSE
  const bound = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return bound;
}
