// The three steps of a sign-in under load, against the compiled server alone, as in everyday use:
// `request` (POST /api/v1/auth/otp, a new address each time) for BENCH_DURATION seconds, then
// `verify` (every mailed code once), then `me` (GET /api/v1/users/me with those sessions' tokens)
// for BENCH_DURATION seconds; 10 connections. Besides throughput and latency it measures what each
// successful request costs: PostgreSQL statements and round trips (through a counting proxy),
// Redis commands, and CPU time of the server, PostgreSQL and Redis, and from those the ceilings.
// Usage: npm run bench:login  (BENCH_DURATION=10 BENCH_CONNECTIONS=10; --json for JSON)
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Redis from 'ioredis';
import { postgresCpuMs, processCpuMs, redisClientIds, redisReading, startCountingProxy } from './meters.mjs';
import { REDIS_URL, freshDatabase, percentile, startServer, startSink, teardown } from './support.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const DATABASE = 'otp_bench_login';
const { values: args } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
const log = (message) => console.error(message);
const runId = randomBytes(3).toString('hex');
let addresses = 0;

const json = (body) => {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
};
const JSON_HEADERS = { 'content-type': 'application/json' };
// Per phase: the request for one user, and whether the answer is the API's success for it.
const phases = {
  request: {
    build: (user) => ({
      method: 'POST',
      path: '/api/v1/auth/otp',
      headers: JSON_HEADERS,
      body: JSON.stringify({ email: user.email }),
    }),
    ok: (user, status, body) => status === 202 && typeof (user.sessionId = json(body)?.sessionId) === 'string',
  },
  verify: {
    build: (user) => ({
      method: 'POST',
      path: '/api/v1/auth/otp/verify',
      headers: JSON_HEADERS,
      body: JSON.stringify({ sessionId: user.sessionId, code: user.code }),
    }),
    ok: (user, status, body) => {
      const tokens = json(body);
      user.accessToken = tokens?.accessToken;
      return status === 200 && typeof tokens?.accessToken === 'string' && typeof tokens.refreshToken === 'string';
    },
  },
  me: {
    build: (user) => ({
      method: 'GET',
      path: '/api/v1/users/me',
      headers: { authorization: `Bearer ${user.accessToken}` },
    }),
    ok: (user, status, body) =>
      status === 200 && json(body)?.email === user.email && typeof json(body)?.id === 'string',
  },
};

const stack = teardown();
let exitCode = 0;
try {
  const databaseUrl = await freshDatabase(DATABASE);
  const proxy = await startCountingProxy(databaseUrl);
  stack.add(proxy.close);
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  await redis.connect();
  stack.add(async () => redis.disconnect());
  await redis.flushdb();
  const sink = await startSink();
  stack.add(sink.close);
  const clientsBefore = new Set(await redisClientIds(redis));
  const server = await startServer({
    DATABASE_URL: proxy.url,
    MAIL_PORT: String(sink.port),
    MAIL_USE_TLS: 'false',
    // All the load comes from one address, and each address asks for one code.
    RATE_LIMIT_PER_IP_PER_MINUTE: '100000000',
    OTP_MAX_PER_HOUR: '1000',
  });
  stack.add(server.stop);
  const serverClients = (await redisClientIds(redis)).filter((id) => !clientsBefore.has(id));
  const ownId = String(await redis.client('ID'));

  const reading = async () => {
    const ids = await redisClientIds(redis);
    return {
      at: performance.now(),
      database: proxy.counts(),
      redis: await redisReading(redis),
      serverCpuMs: processCpuMs(server.pid),
      postgresCpuMs: postgresCpuMs(DATABASE),
      otherRedisClients: ids.filter((id) => id !== ownId && !serverClients.includes(id)).length,
    };
  };
  const costOf = (before, after, per) => ({
    statements: (after.database.statements - before.database.statements) / per,
    roundTrips: (after.database.roundTrips - before.database.roundTrips) / per,
    redisCommands: (after.redis.commands - before.redis.commands) / per,
    redisScripts: (after.redis.scripts - before.redis.scripts) / per,
    serverCpuMs: before.serverCpuMs === null ? null : (after.serverCpuMs - before.serverCpuMs) / per,
    postgresCpuMs: before.postgresCpuMs === null ? null : (after.postgresCpuMs - before.postgresCpuMs) / per,
    redisCpuMs: (after.redis.cpuMs - before.redis.cpuMs) / per,
  });

  /** One phase: `next()` hands out the user of each request; runs `amount` requests, else `seconds`. */
  async function runPhase(name, next, { amount, seconds }) {
    const spec = phases[name];
    const latencies = [];
    let ok = 0;
    const failures = {};
    const before = await reading();
    let last = before.at;
    const instance = autocannon({
      url: server.url,
      connections: Math.min(CONNECTIONS, amount ?? Infinity),
      pipelining: 1,
      timeout: 10,
      sampleInt: 100,
      ...(amount ? { amount } : { duration: seconds }),
      requests: [
        {
          setupRequest: (request, context) => {
            context.user = next();
            return { ...request, ...spec.build(context.user) };
          },
          onResponse: (status, body, context) => {
            if (spec.ok(context.user, status, body)) {
              context.user.done = name;
              ok++;
            } else {
              const outcome = `${status} ${json(body)?.code ?? ''}`.trim();
              failures[outcome] = (failures[outcome] ?? 0) + 1;
            }
          },
        },
      ],
    });
    instance.on('response', (client, status, bytes, ms) => {
      latencies.push(ms);
      last = performance.now();
    });
    const cap = amount && setTimeout(() => instance.stop(), 5 * DURATION * 1000);
    const result = await instance;
    clearTimeout(cap);
    // The requests cut off at the end of a timed phase finish on the server before the reading.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await reading();
    const elapsed = (last - before.at) / 1000;
    return {
      requests: latencies.length,
      ok,
      perSecond: elapsed > 0 ? latencies.length / elapsed : 0,
      p50: latencies.length ? percentile(latencies, 50) : null,
      p99: latencies.length ? percentile(latencies, 99) : null,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      failures,
      otherRedisClients: Math.max(before.otherRedisClients, after.otherRedisClients),
      cost: ok ? costOf(before, after, ok) : null,
    };
  }

  /** request → codes from the sink → verify → me; `seconds` for the timed phases. */
  async function signIns(seconds) {
    const users = [];
    const results = {};
    results.request = await runPhase(
      'request',
      () => {
        const user = { email: `login-${runId}-${addresses++}@example.com` };
        users.push(user);
        return user;
      },
      { seconds },
    );
    const requested = users.filter((user) => user.done === 'request');
    await Promise.all(requested.map(async (user) => (user.code = await sink.code(user.email, 10_000))));
    const toVerify = requested.filter((user) => user.code);
    results.request.missingCodes = requested.length - toVerify.length;
    // After a timeout autocannon sends one more request than there are codes: an unknown login.
    let v = 0;
    results.verify = toVerify.length
      ? await runPhase('verify', () => toVerify[v++] ?? { sessionId: 'none', code: '000000' }, {
          amount: toVerify.length,
        })
      : null;
    const sessions = toVerify.filter((user) => user.done === 'verify');
    let m = 0;
    results.me = sessions.length ? await runPhase('me', () => sessions[m++ % sessions.length], { seconds }) : null;
    return results;
  }

  log('warm-up: request and me for 1 s each, verify in between; not reported');
  await signIns(1);
  log('background: 2 s without load');
  const idleBefore = await reading();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const idleAfter = await reading();
  const idle = costOf(idleBefore, idleAfter, (idleAfter.at - idleBefore.at) / 1000);
  log(`phases: ${DURATION} s request, verify every code, ${DURATION} s me; ${CONNECTIONS} connections`);
  const results = await signIns(DURATION);

  if (!results.verify || !results.me) exitCode = 1;
  for (const phase of Object.values(results)) {
    if (phase && (phase.ok < phase.requests || phase.non2xx || phase.errors || phase.missingCodes)) exitCode = 1;
  }
  if (proxy.counts().encrypted)
    throw new Error('the server talks TLS to PostgreSQL: the proxy cannot count statements');
  const report = {
    redisCpu: idleBefore.redis.mainThread ? 'main thread' : 'all threads',
    node: process.version,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
    duration: DURATION,
    connections: CONNECTIONS,
    idlePerSecond: idle,
    phases: results,
    ceilings: ceilingsOf(results),
  };
  console.log(args.json ? JSON.stringify(report, null, 2) : table(report));
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  await stack.run();
}
process.exit(exitCode);

/** What one resource alone allows, from its CPU time per operation; null when the operation does not use it. */
function ceilingsOf({ request, verify, me }) {
  const signIn =
    request?.cost &&
    verify?.cost &&
    Object.fromEntries(
      Object.keys(request.cost).map((key) => [
        key,
        request.cost[key] === null ? null : request.cost[key] + verify.cost[key],
      ]),
    );
  const read = me?.cost;
  const perSecond = (cost, cpu, uses) => (cost && uses(cost) && cost[cpu] > 0 ? 1000 / cost[cpu] : null);
  const usesRedis = (cost) => cost.redisCommands >= 0.01;
  const usesPostgres = (cost) => cost.statements >= 0.01;
  return {
    signIn,
    redisNode: { signIns: perSecond(signIn, 'redisCpuMs', usesRedis), reads: perSecond(read, 'redisCpuMs', usesRedis) },
    postgresCore: {
      signIns: perSecond(signIn, 'postgresCpuMs', usesPostgres),
      reads: perSecond(read, 'postgresCpuMs', usesPostgres),
    },
    serverCore: {
      signIns: perSecond(signIn, 'serverCpuMs', () => true),
      reads: perSecond(read, 'serverCpuMs', () => true),
    },
  };
}

function table({ redisCpu, node, cpus, duration, connections, idlePerSecond, phases, ceilings }) {
  const fixed = (value, digits) => (value === null || value === undefined ? 'n/a' : value.toFixed(digits));
  const whole = (value) => (value === null ? 'n/a' : Math.round(value).toLocaleString('en'));
  const lines = [
    `login phases · ${duration} s timed phases · ${connections} connections · node ${node} · ${cpus}`,
    '',
    '| phase | requests | ok | req/s | p50 ms | p99 ms | non-2xx | errors | server CPU ms/req |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [name, phase] of Object.entries(phases)) {
    if (!phase) {
      lines.push(`| ${name} | not run | | | | | | | |`);
      continue;
    }
    lines.push(
      `| ${name} | ${phase.requests} | ${phase.ok} | ${whole(phase.perSecond)} | ${fixed(phase.p50, 1)} | ${fixed(phase.p99, 1)} | ${phase.non2xx} | ${phase.errors} | ${fixed(phase.cost?.serverCpuMs, 3)} |`,
    );
  }
  if (phases.request.missingCodes)
    lines.push('', `${phases.request.missingCodes} accepted requests whose code never reached the sink`);
  for (const [name, phase] of Object.entries(phases)) {
    if (phase && Object.keys(phase.failures).length)
      lines.push(
        '',
        `${name}, answers that are not a success: ${Object.entries(phase.failures)
          .map(([outcome, n]) => `${n} × ${outcome}`)
          .join(', ')}`,
      );
  }

  const costRow = (name, cost) =>
    `| ${name} | ${fixed(cost?.statements, 2)} | ${fixed(cost?.roundTrips, 2)} | ${fixed(cost?.redisCommands, 2)} (${fixed(cost?.redisScripts, 2)}) | ${fixed(cost?.serverCpuMs, 3)} | ${fixed(cost?.postgresCpuMs, 3)} | ${fixed(cost?.redisCpuMs, 3)} |`;
  lines.push(
    '',
    'Cost per successful request, measured over the whole phase: it includes the background work',
    'that ran meanwhile (the audit sealer every second, the cleanup job every minute; the last row',
    'shows that work alone). Redis commands count those run inside scripts; scripts in brackets.',
    '',
    '| per | PG statements | PG round trips | Redis commands (scripts) | server CPU ms | PostgreSQL CPU ms | Redis CPU ms |',
    '|---|---:|---:|---:|---:|---:|---:|',
    costRow('request', phases.request?.cost),
    costRow('verify', phases.verify?.cost),
    costRow('sign-in (request + verify)', ceilings.signIn),
    costRow('me', phases.me?.cost),
    costRow('second without load', idlePerSecond),
    '',
    'Ceilings, estimated from the CPU time per operation on this machine: what one resource',
    'alone would allow if everything else kept up (n/a: the operation does not use it).',
    '',
    '| resource | sign-ins/s | authenticated reads/s |',
    '|---|---:|---:|',
    `| Redis node (runs commands on one core; ${redisCpu} CPU) | ${whole(ceilings.redisNode.signIns)} | ${whole(ceilings.redisNode.reads)} |`,
    `| PostgreSQL primary, per core | ${whole(ceilings.postgresCore.signIns)} | ${whole(ceilings.postgresCore.reads)} |`,
    `| service instance, per core | ${whole(ceilings.serverCore.signIns)} | ${whole(ceilings.serverCore.reads)} |`,
  );
  const others = Math.max(...Object.values(phases).map((p) => p?.otherRedisClients ?? 0));
  if (others)
    lines.push(
      '',
      `warning: ${others} other client(s) connected to Redis during the phases; its command counts and CPU include their work.`,
    );
  if (phases.request.cost?.serverCpuMs === null) lines.push('', 'CPU times need /proc (Linux): n/a here.');
  lines.push(
    '',
    "PostgreSQL CPU: its background processes and the backends of the bench database; not other databases' backends.",
  );
  return lines.join('\n');
}
