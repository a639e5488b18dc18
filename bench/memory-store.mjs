// The memory store at scale: heap for N live logins, and the cost of a sweep when nothing and
// when everything has expired. Usage: npm run bench:memory  (LOGINS=1000000)
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { MemoryOtpStore } = require('../dist/src/store/memory-otp.store.js');
const LOGINS = Number(process.env.LOGINS ?? 1_000_000);
const limits = { cooldownMs: 60_000, maxPerHour: 5, maxLiveCodes: 3, maxAttempts: 5 };

global.gc();
const before = process.memoryUsage().heapUsed;
const store = new MemoryOtpStore(LOGINS * 2);
const now = Date.now();
for (let i = 0; i < LOGINS; i++) {
  const code = { hash: randomBytes(32).toString('hex'), expiresAt: now + 300_000 };
  await store.startLogin(randomBytes(12).toString('base64url'), randomBytes(24).toString('base64url'), `user${i}@example.com`, code, limits, now);
}
global.gc();
const heapMb = (process.memoryUsage().heapUsed - before) / 1e6;

const sweep = async (at) => {
  const started = process.hrtime.bigint();
  const removed = await store.removeExpired(at);
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, removed };
};
const idle = await sweep(now + 10_000);
const all = await sweep(now + 301_000);
console.log(`memory store, ${LOGINS.toLocaleString('en')} live logins`);
console.log('| measure | value |\n|---|---|');
console.log(`| heap used | ${heapMb.toFixed(0)} MB (${((heapMb * 1e6) / LOGINS).toFixed(0)} bytes a login) |`);
console.log(`| sweep, nothing expired | ${idle.ms.toFixed(2)} ms (${idle.removed} removed) |`);
console.log(`| sweep, every login expired | ${all.ms.toFixed(0)} ms (${all.removed} removed) |`);
