// The admin audit query at scale: 1,000,000 events in PostgreSQL, then the first page of
// GET /api/v1/admin/audit filtered by email, by type, by both and by nothing, through HTTP
// against the compiled server. Usage: npm run bench:audit  (EVENTS=1000000 ROUNDS=200)
import pg from 'pg';
import { freshDatabase, percentile, signIn, startServer, startSink } from './support.mjs';

const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
const ROUNDS = Number(process.env.ROUNDS ?? 200);
const ADMIN = 'bench-admin@example.com';

const databaseUrl = await freshDatabase('otp_bench_audit');
const sink = await startSink();
const server = await startServer({
  DATABASE_URL: databaseUrl,
  MAIL_PORT: String(sink.port),
  ADMIN_EMAILS: ADMIN,
  RATE_LIMIT_PER_IP_PER_MINUTE: '100000000',
});
const db = new pg.Client({ connectionString: databaseUrl });
await db.connect();

try {
  console.log(`loading ${EVENTS.toLocaleString('en')} events…`);
  const started = Date.now();
  // 20,000 addresses, every event type, a year of history. Marked as sealed (negative chain
  // indexes) so the sealer stays idle and only the queries are measured.
  await db.query(
    `INSERT INTO audit_events (at, type, user_id, email, ip, user_agent, session_id, request_id, details, chain_index, seal)
     SELECT now() - (i % 31536000) * interval '1 second',
            (ARRAY['otp.requested','otp.sent','otp.send_failed','otp.verified','otp.failed','otp.locked','session.created',
                   'session.refreshed','session.revoked','refresh_token.reused','rate_limit.hit','admin.audit_read','otp.cleanup'])[1 + i % 13],
            NULL, 'user' || (i % 20000) || '@example.com', '203.0.113.' || (i % 250), 'bench/1.0', NULL, md5(i::text), '{}'::jsonb, -i, NULL
     FROM generate_series(1, $1::int) AS i`,
    [EVENTS],
  );
  await db.query('ANALYZE audit_events');
  console.log(`loaded in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const { accessToken } = await signIn(server.url, sink, ADMIN);
  const queries = {
    'email=user4242@example.com': '?email=user4242@example.com',
    'type=otp.failed': '?type=otp.failed',
    'email + type': '?email=user4242@example.com&type=otp.sent',
    'no filter': '',
  };
  const rows = [];
  for (const [name, query] of Object.entries(queries)) {
    const timings = [];
    for (let round = 0; round < ROUNDS + 10; round++) {
      const t0 = process.hrtime.bigint();
      const response = await fetch(`${server.url}/api/v1/admin/audit${query}`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      const body = await response.json();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (response.status !== 200 || body.items.length === 0) throw new Error(`${name}: ${response.status}`);
      if (round >= 10) timings.push(ms);
    }
    rows.push({ query: name, median: percentile(timings, 50), p99: percentile(timings, 99) });
  }
  console.log(
    `\nGET /api/v1/admin/audit, first page (50), ${EVENTS.toLocaleString('en')} events, ${ROUNDS} requests each, one at a time`,
  );
  console.log('| query | median ms | p99 ms |\n|---|---|---|');
  for (const row of rows) console.log(`| ${row.query} | ${row.median.toFixed(2)} | ${row.p99.toFixed(2)} |`);
} finally {
  await db.end();
  await server.stop();
  await sink.close();
}
