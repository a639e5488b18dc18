// The floor: the least work per request that API.md's guarantees take, built from the service's
// own parts (its Redis scripts, its PostgreSQL statements and schema, its mail composer and SMTP
// pool) with nothing around them: no Nest, no per-IP limit, no validation, no audit sealer, no
// metrics, no request log. What it reaches on a machine bounds what any design of ours can
// reach there; `bench/floor-compare.mjs` runs it against better-auth.
// Env: PORT, DATABASE_URL (migrated here), REDIS_URL, MAIL_PORT (SMTP on 127.0.0.1),
//      FLOOR_MAIL=product (the service's text + HTML mail, default) | line (one line of text,
//      as the better-auth peer sends).
import { generateKeyPairSync, randomBytes, randomUUID, sign, verify } from 'node:crypto';
import Fastify from 'fastify';
import Redis from 'ioredis';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { Secrets } from '../dist/src/common/secrets.js';
import { dataSourceOptions } from '../dist/src/database/data-source-options.js';
import { runPendingMigrations } from '../dist/src/database/migrations.js';
import { compileLocale } from '../dist/src/mail/mail.service.js';
import { composeMessage } from '../dist/src/mail/mime-message.js';
import { SmtpConnectionPool } from '../dist/src/mail/smtp-connection-pool.js';
import { CodeGenerator } from '../dist/src/otp/code-generator.js';
import { formatLoginId, parseLoginId } from '../dist/src/otp/login-id.js';
import { RECORD_ISSUED, RECORD_SIGN_IN } from '../dist/src/otp/postgres-login-records.js';
import { RedisOtpStore } from '../dist/src/store/redis-otp.store.js';

const { PORT = '3400', DATABASE_URL, REDIS_URL = 'redis://127.0.0.1:6379/6', MAIL_PORT = '2525', FLOOR_MAIL = 'product' } = process.env;
const TTL_MS = 300_000;
const LIMITS = { cooldownMs: 60_000, maxPerHour: 1000, maxLiveCodes: 3, maxAttempts: 5 };
const FAILURES = { maxFailed: 20, windowMs: 86_400_000 };
const SENDER = { name: '', address: 'bench@example.com' };

const migrator = new DataSource(dataSourceOptions({ type: 'postgres', url: DATABASE_URL }));
await migrator.initialize();
await runPendingMigrations(migrator);
await migrator.destroy();

const db = new pg.Pool({ connectionString: DATABASE_URL, max: 20 });
const redis = new Redis(REDIS_URL);
const store = new RedisOtpStore(redis, `floor:${randomBytes(3).toString('hex')}:`);
const secrets = new Secrets(randomBytes(32));
const codes = new CodeGenerator();
const templates = compileLocale('en');
const smtp = new SmtpConnectionPool({ host: '127.0.0.1', port: Number(MAIL_PORT), ignoreTLS: true }, 10);
// Straight to the pool, without nodemailer's Mail object around the message.
const sendMail = (email, { messageId, raw }) =>
  new Promise((resolve, reject) =>
    smtp.send({ data: { raw }, message: { getEnvelope: () => ({ from: SENDER.address, to: [email] }), messageId: () => messageId } }, (error) => (error ? reject(error) : resolve())),
  );
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const tokenHeader = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: 'floor' })).toString('base64url');

const auditRows = (types, email, loginId, sessionId = null) =>
  JSON.stringify(types.map((type) => ({ at: new Date(), type, user_id: null, email, ip: '127.0.0.1', user_agent: null, session_id: sessionId, request_id: null, details: { loginId } })));

function message(email, code, loginId) {
  if (FLOOR_MAIL === 'line') {
    const messageId = `<${randomUUID()}@example.com>`;
    const raw = `From: ${SENDER.address}\r\nTo: ${email}\r\nSubject: Your sign-in code\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: ${messageId}\r\n\r\nYour code is ${code}. It expires in 5 minutes.\r\n`;
    return { messageId, raw };
  }
  const context = { code, ttlMinutes: TTL_MS / 60_000, signInUrl: `http://127.0.0.1:${PORT}/login/link?session=${loginId}&code=${code}`, lang: templates.lang };
  const subject = templates.subject(context);
  return composeMessage(SENDER, { to: email, subject, text: templates.text(context), html: templates.html({ ...context, subject }) });
}

const app = Fastify({ logger: false });
app.get('/health/live', async () => ({ status: 'ok' }));

app.post('/api/v1/auth/otp', async (request, reply) => {
  const email = String(request.body.email).toLowerCase();
  const now = Date.now();
  const loginId = { secret: codes.loginSecret(), address: secrets.addressTag(email) };
  const sessionId = formatLoginId(loginId);
  const code = codes.code(6);
  const hash = secrets.hashCode(sessionId, code);
  const issued = await store.startLogin(loginId.address, loginId.secret, email, { hash, expiresAt: now + TTL_MS }, LIMITS, now);
  if (issued.outcome !== 'issued') return reply.code(429).send({ code: issued.outcome });
  await sendMail(email, message(email, code, sessionId));
  await db.query({
    name: 'issued',
    text: RECORD_ISSUED,
    values: [randomUUID(), email, sessionId, hash, new Date(now + TTL_MS), new Date(now), auditRows(['otp.requested', 'otp.sent'], email, sessionId)],
  });
  return reply.code(202).send({ sessionId, expiresAt: new Date(now + TTL_MS).toISOString(), codeLength: 6 });
});

app.post('/api/v1/auth/otp/verify', async (request, reply) => {
  const { sessionId, code } = request.body;
  const loginId = parseLoginId(String(sessionId));
  const now = Date.now();
  const result = loginId && (await store.verify(loginId.address, loginId.secret, secrets.hashCode(sessionId, String(code)), FAILURES, now));
  if (result?.outcome !== 'verified') return reply.code(400).send({ code: 'otp_invalid' });
  const session = randomUUID();
  const refreshToken = randomBytes(32).toString('base64url');
  const at = new Date(now);
  const expires = new Date(now + 30 * 86_400_000);
  const {
    rows: [user],
  } = await db.query({
    name: 'sign_in',
    text: RECORD_SIGN_IN,
    values: [randomUUID(), result.email, at, session, secrets.hashRefreshToken(refreshToken), expires, expires, '127.0.0.1', null, sessionId, auditRows(['otp.verified', 'session.created'], result.email, sessionId, session)],
  });
  const payload = Buffer.from(JSON.stringify({ sub: user.id, sid: session, email: user.email, iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 900 })).toString('base64url');
  const signature = sign('sha256', Buffer.from(`${tokenHeader}.${payload}`), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return { accessToken: `${tokenHeader}.${payload}.${signature}`, refreshToken, tokenType: 'Bearer', expiresIn: 900 };
});

app.get('/api/v1/users/me', async (request, reply) => {
  const [header, payload, signature] = String(request.headers.authorization).replace(/^Bearer /, '').split('.');
  const valid = signature && verify('sha256', Buffer.from(`${header}.${payload}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  if (!valid) return reply.code(401).send({ code: 'unauthorized' });
  const { sub, email } = JSON.parse(Buffer.from(payload, 'base64url').toString());
  return { id: sub, email };
});

await app.listen({ host: '127.0.0.1', port: Number(PORT) });
const stop = async () => {
  await app.close();
  smtp.close();
  redis.disconnect();
  await db.end();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
