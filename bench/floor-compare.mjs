// The floor (bench/floor-server.mjs) against better-auth, through the shared bench's own driver,
// SMTP sink and peer, as its compare.sh runs the service: warm-up, then RUNS rounds of (floor,
// better-auth), then its summary with the per-round ratios. If the floor cannot reach a target
// ratio on a machine, no design of ours can reach it there.
// Usage: npm run build && node bench/floor-compare.mjs ../shared/bench
//   (the shared bench's `npm ci` done, its peer's role and database `bench` as in its README)
// Env: RUNS (3), DURATION (10), CONNECTIONS (10), FLOOR_MAIL (product | line, see floor-server.mjs)
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REDIS_URL, freshDatabase, stopChild, teardown } from './support.mjs';

const BENCH = resolve(process.argv[2] ?? '../shared/bench');
const { RUNS = '3', DURATION = '10', CONNECTIONS = '10', FLOOR_MAIL = 'product' } = process.env;
const FLOOR_URL = 'http://127.0.0.1:3400';
const OUT = join(BENCH, 'results', `floor-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`);
mkdirSync(OUT, { recursive: true });

const stack = teardown();
const up = (url) => fetch(url).then((response) => response.ok, () => false);
const answers = (url) => fetch(url).then(() => true, () => false);

async function start(name, args, options, readyUrl) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'], ...options });
  stack.add(() => stopChild(child));
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    if (await up(readyUrl)) return child.pid;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`${name} did not come up at ${readyUrl}`);
}

function bench(target, out, extra) {
  const args = ['bench.js', '--target', target, '--connections', CONNECTIONS, '--out', join(OUT, `${out}.json`), ...extra];
  const run = spawnSync(process.execPath, args, { cwd: BENCH, stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`the driver failed on ${target}`);
}

let exitCode = 0;
try {
  for (const url of [FLOOR_URL, 'http://127.0.0.1:3100', 'http://127.0.0.1:2580']) {
    if (await answers(url)) throw new Error(`${url} is already in use`);
  }
  const databaseUrl = await freshDatabase('otp_bench_floor');
  const sink = await start('the SMTP sink', ['smtp-sink.js'], { cwd: BENCH }, 'http://127.0.0.1:2580/stats');
  const floor = await start(
    'the floor',
    [fileURLToPath(new URL('floor-server.mjs', import.meta.url))],
    { env: { ...process.env, PORT: '3400', DATABASE_URL: databaseUrl, REDIS_URL, MAIL_PORT: '2525', FLOOR_MAIL } },
    `${FLOOR_URL}/health/live`,
  );
  const peer = await start(
    'better-auth',
    ['peers/better-auth/server.js'],
    { cwd: BENCH, env: { DATABASE_URL: 'postgres://bench:bench@127.0.0.1:5432/bench', ...process.env, NODE_ENV: 'production', AWAIT_MAIL: '1' } },
    'http://127.0.0.1:3100/api/auth/ok',
  );
  const floorArgs = ['--url', FLOOR_URL, '--pids', `project=${floor},sink=${sink}`];
  const peerArgs = ['--pids', `peer=${peer},sink=${sink}`];
  bench('project', 'warmup-project', [...floorArgs, '--duration', '2']);
  bench('better-auth', 'warmup-better-auth', [...peerArgs, '--duration', '2']);
  for (let round = 1; round <= Number(RUNS); round++) {
    bench('project', `project-${round}`, [...floorArgs, '--duration', DURATION]);
    bench('better-auth', `better-auth-${round}`, [...peerArgs, '--duration', DURATION]);
  }
  console.log(`floor (FLOOR_MAIL=${FLOOR_MAIL}) vs better-auth (AWAIT_MAIL=1) · RUNS=${RUNS} DURATION=${DURATION} CONNECTIONS=${CONNECTIONS} · ${OUT}\n`);
  const rounds = (target) => Array.from({ length: Number(RUNS) }, (_, i) => join(OUT, `${target}-${i + 1}.json`));
  spawnSync(process.execPath, ['summarize.js', '--ratio', 'project/better-auth', ...rounds('project'), ...rounds('better-auth')], { cwd: BENCH, stdio: 'inherit' });
} catch (error) {
  console.error(error.message);
  exitCode = 1;
} finally {
  await stack.run();
}
process.exit(exitCode);
