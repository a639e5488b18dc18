// `audit verify` at scale: EVENTS audit events (1,000,000) loaded into PostgreSQL, sealed by the
// compiled server's own sealer (rounds of up to 1000 events), then the compiled CLI's
// `audit verify` run against them, timed. Usage: npm run bench:verify  (EVENTS=1000000 ANALYZE=1)
//
// After loading, ANALYZE gives PostgreSQL the table's statistics, as autovacuum would within a
// minute; ANALYZE=0 measures a PostgreSQL that has none (autovacuum off).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freshDatabase, ROOT, startServer, teardown } from './support.mjs';

const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
const ANALYZE = process.env.ANALYZE !== '0';
/** How long sealing may make no progress before the bench gives up. */
const STALL_MS = 120_000;
const GNU_TIME = '/usr/bin/time';

const stop = teardown();
try {
  const databaseUrl = await freshDatabase('otp_bench_verify');
  const server = await startServer({ DATABASE_URL: databaseUrl });
  stop.add(() => server.stop());
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  stop.add(() => db.end());

  console.error(`loading ${EVENTS.toLocaleString('en')} events…`);
  let started = Date.now();
  await loadEvents(db, EVENTS);
  const loadSeconds = (Date.now() - started) / 1000;
  console.error(`loaded in ${loadSeconds.toFixed(1)} s; the server seals them`);

  // Sealing time runs from the load's commit: the sealer starts while ANALYZE runs.
  started = Date.now();
  if (ANALYZE) await db.query('ANALYZE audit_events');
  const sealed = await waitUntilSealed(db, EVENTS);
  const sealSeconds = (Date.now() - started) / 1000;
  console.error(`sealed in ${sealSeconds.toFixed(1)} s`);
  await server.stop();

  const verify = await timedVerify(server.env);
  if (verify.status !== 0) throw new Error(`audit verify exited with ${verify.status}`);
  const expected = `audit chain intact: ${EVENTS} events verified (rounds 1 to ${sealed.rounds})`;
  if (verify.stdout.trim() !== expected) throw new Error(`audit verify printed "${verify.stdout.trim()}"`);

  const rate = (count, seconds) => Math.round(count / seconds).toLocaleString('en');
  console.log(`\naudit verify: ${verify.stdout.trim()}`);
  console.log(`PostgreSQL statistics on audit_events: ${ANALYZE ? 'ANALYZE after loading' : 'none'}`);
  console.log('| step | events | rounds | seconds | events/s | CPU s | max RSS MB |\n|---|--:|--:|--:|--:|--:|--:|');
  console.log(`| load (SQL) | ${EVENTS} | | ${loadSeconds.toFixed(1)} | ${rate(EVENTS, loadSeconds)} | | |`);
  console.log(
    `| sealing (server) | ${EVENTS} | ${sealed.rounds} | ${sealSeconds.toFixed(1)} | ${rate(EVENTS, sealSeconds)} | | |`,
  );
  console.log(
    `| \`audit verify\` (CLI) | ${EVENTS} | ${sealed.rounds} | ${verify.seconds.toFixed(1)} | ${rate(EVENTS, verify.seconds)} | ` +
      `${verify.cpuSeconds?.toFixed(1) ?? 'n/a'} | ${verify.maxRssMb?.toFixed(0) ?? 'n/a'} |`,
  );
} finally {
  await stop.run();
}

/**
 * Committed in one statement, unsealed: the kinds of events sign-ins write, for 20,000
 * addresses over the last three weeks.
 */
async function loadEvents(db, count) {
  await db.query(
    `INSERT INTO audit_events (at, type, user_id, email, ip, user_agent, session_id, request_id, details)
     SELECT now() - ($1::int - i) * interval '2 seconds',
            (ARRAY['otp.requested','otp.sent','otp.send_failed','otp.verified','otp.failed','otp.locked',
                   'session.created','session.refreshed','session.revoked','refresh_token.reused',
                   'rate_limit.hit','admin.audit_read','otp.cleanup'])[1 + i % 13],
            CASE WHEN i % 3 = 0 THEN md5('user' || i % 20000)::uuid END,
            'user' || i % 20000 || '@example.com',
            CASE WHEN i % 10 = 0 THEN '2001:db8::' || to_hex(i % 65536) ELSE '203.0.113.' || i % 250 END,
            (ARRAY['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
                   'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
                   'curl/8.5.0', NULL])[1 + i % 4],
            CASE WHEN i % 3 = 0 THEN md5('session' || i)::uuid END,
            md5(i::text),
            jsonb_build_object('attempt', 1 + i % 5,
                               'outcome', (ARRAY['sent','invalid_code','expired','rate_limited'])[1 + i % 4])
     FROM generate_series(1, $1::int) AS i`,
    [count],
  );
}

/** Polls audit_seals until its rounds cover `count` events; reports progress every 10 s. */
async function waitUntilSealed(db, count) {
  let last = { events: 0, rounds: 0 };
  let progressedAt = Date.now();
  let reportedAt = Date.now();
  for (;;) {
    const {
      rows: [now],
    } = await db.query('SELECT coalesce(sum(event_count), 0)::int AS events, count(*)::int AS rounds FROM audit_seals');
    if (now.events === count) return now;
    if (now.events > count) throw new Error(`${now.events} events sealed, more than were loaded`);
    if (now.events > last.events) progressedAt = Date.now();
    else if (Date.now() - progressedAt > STALL_MS) throw new Error(`sealing stalled at ${now.events} events`);
    if (Date.now() - reportedAt >= 10_000) {
      console.error(`  ${now.events} events sealed in ${now.rounds} rounds`);
      reportedAt = Date.now();
    }
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * `node dist/src/cli.js audit verify` with the server's environment, from a directory of its own
 * (no .env), its progress lines passed through to stderr; CPU and peak memory from GNU time.
 */
async function timedVerify(env) {
  const cwd = mkdtempSync(join(tmpdir(), 'bench-verify-'));
  const usageFile = join(cwd, 'usage.txt');
  const command = [process.execPath, join(ROOT, 'dist/src/cli.js'), 'audit', 'verify'];
  const withTime = existsSync(GNU_TIME);
  const [file, ...args] = withTime ? [GNU_TIME, '-v', '-o', usageFile, ...command] : command;
  try {
    const started = process.hrtime.bigint();
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => {
      for (const line of String(chunk).split('\n').filter(Boolean)) console.error(`  verify: ${line}`);
    });
    const status = await new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (!withTime) return { status, stdout, seconds };
    const usage = readFileSync(usageFile, 'utf8');
    const field = (name) => Number(new RegExp(`${name}[^:]*: ([\\d.]+)`).exec(usage)?.[1]);
    return {
      status,
      stdout,
      seconds,
      cpuSeconds: field('User time') + field('System time'),
      maxRssMb: field('Maximum resident set size') / 1024,
    };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}
