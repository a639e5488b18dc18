// What a bench measures besides HTTP: the statements the server sends to PostgreSQL (through a
// counting proxy), the commands Redis runs, and the CPU time of the server, PostgreSQL and Redis.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/**
 * A TCP proxy in front of PostgreSQL that forwards bytes both ways untouched and reads the
 * client's stream: after the startup packet (no type byte) every message is a type byte and an
 * int32 length that counts itself. Execute ('E') and simple Query ('Q') are statements; Sync
 * ('S') and Query each wait for the server: round trips.
 */
export async function startCountingProxy(upstreamUrl) {
  const upstream = new URL(upstreamUrl);
  const counts = { statements: 0, roundTrips: 0, connections: 0, encrypted: 0 };
  const sockets = new Set();
  const server = createServer((client) => {
    counts.connections++;
    const database = connect(Number(upstream.port || 5432), upstream.hostname);
    for (const [socket, other] of [
      [client, database],
      [database, client],
    ]) {
      sockets.add(socket);
      socket.on('error', () => other.destroy());
      socket.on('close', () => {
        sockets.delete(socket);
        other.destroy();
      });
    }
    let sslRequested = false;
    client.on(
      'data',
      frontendReader(counts, () => (sslRequested = true)),
    );
    database.once('data', (chunk) => {
      // 'S' to an SSLRequest: the rest is TLS and cannot be read; say so instead of miscounting.
      if (sslRequested && chunk[0] === 0x53) counts.encrypted++;
    });
    client.pipe(database);
    database.pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = new URL(upstreamUrl);
  url.hostname = '127.0.0.1';
  url.port = String(server.address().port);
  return {
    url: url.href,
    counts: () => ({ ...counts }),
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

function frontendReader(counts, onSslRequest) {
  let startup = true;
  let skip = 0;
  let head = Buffer.alloc(0);
  return (chunk) => {
    let at = 0;
    while (at < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - at);
        skip -= n;
        at += n;
        continue;
      }
      const headLength = startup ? 8 : 5;
      const take = Math.min(headLength - head.length, chunk.length - at);
      head = Buffer.concat([head, chunk.subarray(at, at + take)]);
      at += take;
      if (head.length < headLength) return;
      if (startup) {
        const code = head.readInt32BE(4);
        if (code === SSL_REQUEST) onSslRequest();
        startup = code === SSL_REQUEST || code === GSSENC_REQUEST;
        skip = head.readInt32BE(0) - 8;
      } else {
        const type = head[0];
        if (type === 0x45 || type === 0x51) counts.statements++; // E, Q
        if (type === 0x53 || type === 0x51) counts.roundTrips++; // S, Q
        skip = head.readInt32BE(1) - 4;
      }
      head = Buffer.alloc(0);
    }
  };
}

const LINUX = process.platform === 'linux';
const TICKS_PER_SECOND = LINUX ? Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100 : 100;

/** utime + stime of a process in ms, from /proc; null where there is no /proc. */
export function processCpuMs(pid) {
  if (!LINUX) return null;
  return (ticksOf(readFileSync(`/proc/${pid}/stat`, 'utf8')) * 1000) / TICKS_PER_SECOND;
}

function ticksOf(stat) {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * CPU ms of the PostgreSQL processes on this machine that work for `database`: its backends and
 * the shared background processes (WAL writer, checkpointer, …), not the backends of other
 * databases. A backend that exits between two readings takes its time with it.
 */
export function postgresCpuMs(database) {
  if (!LINUX) return null;
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue;
      // A client backend shows "postgres: [cluster: ]user database host(port)|[local] state".
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .replace(/\0/g, ' ')
        .replace(/^postgres: (\S+: )?/, '');
      const backendOf = /^\S+ (\S+) (?:\[local\]|\S+\(\d+\))/.exec(title)?.[1];
      if (backendOf !== undefined && backendOf !== database) continue;
      ticks += ticksOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      // gone between the listing and the read
    }
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/**
 * Redis as the server sees it: commands run (INFO commandstats, those inside scripts included;
 * INFO and CLIENT, which the bench sends itself, left out), scripts among them, and the CPU ms of
 * the main thread, the one that runs commands.
 */
export async function redisReading(redis) {
  const stats = parseInfo(await redis.info('commandstats'));
  const cpu = parseInfo(await redis.info('cpu'));
  let commands = 0;
  let scripts = 0;
  for (const [key, value] of Object.entries(stats)) {
    const name = key.replace(/^cmdstat_/, '');
    if (name === 'info' || name.startsWith('client')) continue;
    const calls = Number(/calls=(\d+)/.exec(value)[1]);
    commands += calls;
    if (/^(eval|evalsha|eval_ro|evalsha_ro|fcall|fcall_ro)$/.test(name)) scripts += calls;
  }
  const mainThread = cpu.used_cpu_user_main_thread !== undefined;
  const seconds = mainThread
    ? Number(cpu.used_cpu_user_main_thread) + Number(cpu.used_cpu_sys_main_thread)
    : Number(cpu.used_cpu_user) + Number(cpu.used_cpu_sys);
  return { commands, scripts, cpuMs: seconds * 1000, mainThread };
}

/** Ids of the clients connected to the Redis server, every database. */
export async function redisClientIds(redis) {
  const list = await redis.client('LIST');
  return list
    .split('\n')
    .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
    .filter(Boolean);
}

function parseInfo(text) {
  return Object.fromEntries(
    text
      .split(/\r?\n/)
      .filter((line) => line.includes(':'))
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
  );
}
