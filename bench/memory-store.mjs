// The memory store at scale: memory for N live logins made as the service makes them, the time
// to start them, and the cost of a sweep when nothing, 1% and everything has expired.
// Usage: npm run bench:memory  (LOGINS=1000000)
import { randomBytes, randomInt } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { MemoryOtpStore } = require('../dist/src/store/memory-otp.store.js');
const { Secrets } = require('../dist/src/common/secrets.js');
const LOGINS = Number(process.env.LOGINS ?? 1_000_000);
// The configuration defaults: OTP_RESEND_COOLDOWN_SECONDS, OTP_MAX_PER_HOUR, OTP_MAX_LIVE_CODES,
// OTP_MAX_ATTEMPTS, OTP_TTL_SECONDS.
const limits = { cooldownMs: 60_000, maxPerHour: 5, maxLiveCodes: 3, maxAttempts: 5 };
const TTL_MS = 300_000;
// Logins start evenly over four minutes; one in five asks for a second code, one in twenty for a third.
const ARRIVALS_MS = 240_000;
const resendsOf = (i) => (i % 20 < 4 ? 1 : i % 20 === 4 ? 2 : 0);

const secrets = new Secrets(randomBytes(32));
const t0 = Date.UTC(2026, 10, 24);
const loginEnds = new Float64Array(LOGINS);
const timed = async (call) => {
  const started = process.hrtime.bigint();
  const result = await call();
  return { result, ns: process.hrtime.bigint() - started };
};
const issued = (result) => {
  if (result.outcome !== 'issued') throw new Error(`expected issued, got ${result.outcome}`);
};

global.gc();
const before = process.memoryUsage();
const store = new MemoryOtpStore(LOGINS * 2);
let startNs = 0n;
let resendNs = 0n;
let resends = 0;
for (let i = 0; i < LOGINS; i++) {
  // As the service gets them: a distinct address of about 25 characters, trimmed and lower-cased.
  const email = `${randomBytes(4).toString('hex')}.${i.toString(36).padStart(4, '0')}@example.com`.trim().toLowerCase();
  const address = secrets.addressTag(email);
  const secret = randomBytes(24).toString('base64url');
  const code = (at) => ({
    hash: secrets.hashCode(secret + address, String(randomInt(1_000_000)).padStart(6, '0')),
    expiresAt: at + TTL_MS,
  });
  const at = t0 + Math.floor((i * ARRIVALS_MS) / LOGINS);
  const first = code(at);
  const start = await timed(() => store.startLogin(address, secret, email, first, limits, at));
  issued(start.result);
  startNs += start.ns;
  loginEnds[i] = first.expiresAt;
  for (let n = 1; n <= resendsOf(i); n++) {
    const resentAt = at + n * limits.cooldownMs;
    const next = code(resentAt);
    const resend = await timed(() => store.addCode(address, secret, next, limits, resentAt));
    issued(resend.result);
    resendNs += resend.ns;
    resends++;
    loginEnds[i] = next.expiresAt;
  }
}
global.gc();
const after = process.memoryUsage();
const heapMb = (after.heapUsed - before.heapUsed) / 1e6;
const buffersMb = (after.arrayBuffers - before.arrayBuffers) / 1e6;

const sweep = async (at) => {
  const { result, ns } = await timed(() => store.removeExpired(at));
  return `${(Number(ns) / 1e6).toFixed(2)} ms (${result.toLocaleString('en')} logins removed, ${store.size.toLocaleString('en')} addresses left)`;
};
const ends = loginEnds.sort();
// The cleanup job sweeps every minute; the first sweep of a process also pays for compiling it.
const first = await sweep(ends[0] - 61_000);
const idle = await sweep(ends[0] - 1);
const onePercent = await sweep(ends[Math.floor(LOGINS / 100) - 1]);
const all = await sweep(ends[LOGINS - 1]);
const forgotten = await sweep(ends[LOGINS - 1] + 3_600_000);

const n = (value) => value.toLocaleString('en');
console.log(`memory store, ${n(LOGINS)} live logins with ${n(LOGINS + resends)} codes`);
console.log('| measure | value |\n|---|---|');
console.log(
  `| memory (after gc) | ${(heapMb + buffersMb).toFixed(0)} MB: ${heapMb.toFixed(0)} MB heap + ${buffersMb.toFixed(0)} MB array buffers (${(((heapMb + buffersMb) * 1e6) / LOGINS).toFixed(0)} bytes a login) |`,
);
console.log(
  `| start ${n(LOGINS)} logins | ${(Number(startNs) / 1e9).toFixed(2)} s (${(Number(startNs) / 1e3 / LOGINS).toFixed(2)} µs each); ${n(resends)} resends ${(Number(resendNs) / 1e3 / resends).toFixed(2)} µs each |`,
);
console.log(`| first sweep, nothing expired | ${first} |`);
console.log(`| sweep a minute later, nothing expired | ${idle} |`);
console.log(`| sweep, 1% of logins expired | ${onePercent} |`);
console.log(`| sweep, the remaining 99% expired | ${all} |`);
console.log(`| sweep, every address past its hour | ${forgotten} |`);
