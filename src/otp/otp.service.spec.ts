import { Logger } from '@nestjs/common';
import { AuditEvent } from '../audit/audit-event.entity';
import { ClientContext } from '../common/client-context';
import { ProblemException } from '../common/problem.exception';
import { Secrets } from '../common/secrets';
import { MailService } from '../mail/mail.service';
import { Metrics } from '../metrics/metrics';
import { MailRefusedError } from '../mail/mail-transport';
import { MemoryOtpStore } from '../store/memory-otp.store';
import { CodeGenerator } from './code-generator';
import { OtpToken } from './otp-token.entity';
import { OtpTokensRepository } from './otp-tokens.repository';
import { OtpService } from './otp.service';
import { CapturingTransport } from '../../test/support/capturing-transport';
import { FailableAudit } from '../../test/support/failable-audit';
import { FakeClock } from '../../test/support/fake-clock';
import { migratedSqlite, unitConfig } from '../../test/support/unit-fixtures';

/** Hands out the given codes in order, then falls back to real ones. */
class ScriptedCodes extends CodeGenerator {
  readonly queue: string[] = [];
  readonly secrets: string[] = [];
  override code(length: number): string {
    return this.queue.shift() ?? super.code(length);
  }
  override loginSecret(): string {
    return this.secrets.shift() ?? super.loginSecret();
  }
}

const client: ClientContext = { ip: '203.0.113.7', userAgent: 'jest', requestId: 'req-1', locale: null };

async function buildSut(env: Record<string, string> = {}) {
  const config = unitConfig({ OTP_RESEND_COOLDOWN_SECONDS: '0', ...env });
  const { dataSource, auditTypes } = await migratedSqlite();
  const clock = new FakeClock();
  const secrets = new Secrets(config.secretKey);
  const store = new MemoryOtpStore();
  const transport = new CapturingTransport();
  const codes = new ScriptedCodes();
  const audit = new FailableAudit(dataSource, clock);
  const metrics = new Metrics();
  const sut = new OtpService(
    store,
    new MailService(transport, metrics, config),
    new OtpTokensRepository(dataSource, audit),
    audit,
    secrets,
    codes,
    metrics,
    clock,
    config,
  );
  return { sut, config, clock, codes, transport, store, secrets, dataSource, auditTypes, metrics, audit };
}

async function problemOf(promise: Promise<unknown>): Promise<ProblemException> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProblemException) return error;
    throw error;
  }
  throw new Error('expected a ProblemException');
}

describe('OtpService', () => {
  let t: Awaited<ReturnType<typeof buildSut>>;

  beforeAll(() => Logger.overrideLogger(false));
  afterEach(async () => {
    if (t?.dataSource.isInitialized) await t.dataSource.destroy();
  });

  describe('codes', () => {
    it.each([6, 8, 10])('mails %i decimal digits and says how long the code lives', async (length) => {
      t = await buildSut({ OTP_LENGTH: String(length), OTP_TTL_SECONDS: '300' });
      const ticket = await t.sut.requestCode('ada@example.com', client);
      expect(ticket.codeLength).toBe(length);
      expect(t.transport.lastCode()).toMatch(new RegExp(`^\\d{${length}}$`));
      expect(t.transport.sent[0].text).toContain('5 minutes');
      expect(t.transport.sent[0].html).toContain(t.transport.lastCode());
    });

    it('generates uniformly padded codes, leading zeros included', () => {
      const generator = new CodeGenerator();
      const samples = Array.from({ length: 2000 }, () => generator.code(6));
      expect(samples.every((code) => /^\d{6}$/.test(code))).toBe(true);
      expect(new Set(samples.map((code) => code[0])).size).toBe(10);
    });

    it('gives sessionIds of at least 128 random bits, URL-safe', async () => {
      t = await buildSut();
      const { sessionId } = await t.sut.requestCode('ada@example.com', client);
      expect(sessionId).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    });

    it('stores only a keyed hash bound to the login', async () => {
      t = await buildSut();
      t.codes.queue.push('123456', '123456');
      const first = await t.sut.requestCode('ada@example.com', client);
      const second = await t.sut.requestCode('bob@example.com', client);
      const rows = await t.dataSource.getRepository(OtpToken).find();
      expect(rows.map((row) => row.codeHash).sort()).toEqual(
        [t.secrets.hashCode(first.sessionId, '123456'), t.secrets.hashCode(second.sessionId, '123456')].sort(),
      );
      expect(rows[0].codeHash).not.toEqual(rows[1].codeHash);
      expect(JSON.stringify(rows)).not.toContain('123456');
    });
  });

  describe('verification', () => {
    it('answers the address a right code proves, once', async () => {
      t = await buildSut();
      const { sessionId } = await t.sut.requestCode('ada@example.com', client);
      const verified = await t.sut.verifyCode(sessionId, t.transport.lastCode(), client);
      expect(verified).toEqual({ email: 'ada@example.com', loginId: sessionId });
      expect((await problemOf(t.sut.verifyCode(sessionId, t.transport.lastCode(), client))).code).toBe('otp_expired');
      expect(await t.auditTypes()).toEqual(['otp.requested', 'otp.sent']);
      const counted = await t.metrics.registry.getSingleMetricAsString('otp_codes_total');
      expect(counted).toContain('otp_codes_total{outcome="sent"} 1');
      expect(counted).toContain('otp_codes_total{outcome="verified"} 1');
    });

    it('counts attempts down and destroys the login with the last one', async () => {
      t = await buildSut({ OTP_MAX_ATTEMPTS: '3' });
      t.codes.queue.push('111111');
      const { sessionId } = await t.sut.requestCode('ada@example.com', client);
      const remaining = [];
      for (let i = 0; i < 3; i++)
        remaining.push(
          (await problemOf(t.sut.verifyCode(sessionId, '999999', client))).options.extras?.attemptsRemaining,
        );
      expect(remaining).toEqual([2, 1, 0]);
      expect((await problemOf(t.sut.verifyCode(sessionId, '111111', client))).code).toBe('otp_expired');
      expect(await t.auditTypes()).toEqual([
        'otp.requested',
        'otp.sent',
        'otp.failed',
        'otp.failed',
        'otp.failed',
        'otp.locked',
      ]);
    });

    it('refuses a code past its lifetime', async () => {
      t = await buildSut({ OTP_TTL_SECONDS: '60' });
      const { sessionId } = await t.sut.requestCode('ada@example.com', client);
      t.clock.advance(61);
      expect((await problemOf(t.sut.verifyCode(sessionId, t.transport.lastCode(), client))).code).toBe('otp_expired');
    });

    it('never accepts a code without its own sessionId', async () => {
      t = await buildSut();
      t.codes.queue.push('222222', '333333');
      await t.sut.requestCode('ada@example.com', client);
      const other = await t.sut.requestCode('bob@example.com', client);
      expect((await problemOf(t.sut.verifyCode(other.sessionId, '222222', client))).code).toBe('otp_invalid');
    });

    it('ends every earlier login of the address when a new one starts', async () => {
      t = await buildSut();
      t.codes.queue.push('444444', '555555');
      const first = await t.sut.requestCode('ada@example.com', client);
      const second = await t.sut.requestCode('ada@example.com', client);
      expect((await problemOf(t.sut.verifyCode(first.sessionId, '444444', client))).code).toBe('otp_expired');
      await expect(t.sut.verifyCode(second.sessionId, '555555', client)).resolves.toBeDefined();
    });

    it('locks the address after its failure budget, across logins, for longer with each further failure, and mails it nothing meanwhile', async () => {
      t = await buildSut({
        OTP_MAX_ATTEMPTS: '2',
        OTP_MAX_FAILED_PER_ADDRESS: '3',
        OTP_FAILED_WINDOW_SECONDS: '86400',
      });
      const first = await t.sut.requestCode('ada@example.com', client);
      await problemOf(t.sut.verifyCode(first.sessionId, '000000', client));
      await problemOf(t.sut.verifyCode(first.sessionId, '000001', client));
      t.codes.queue.push('777777');
      const second = await t.sut.requestCode('ada@example.com', client);
      await problemOf(t.sut.verifyCode(second.sessionId, '000002', client));
      const locked = await problemOf(t.sut.verifyCode(second.sessionId, '777777', client));
      expect(locked.code).toBe('rate_limited');
      expect(locked.options.retryAfterSeconds).toBe(15 * 60);
      const mailed = t.transport.sent.length;
      const refused = await problemOf(t.sut.requestCode('ada@example.com', client));
      expect([refused.code, refused.options.retryAfterSeconds]).toEqual(['rate_limited', 15 * 60]);
      expect(t.transport.sent).toHaveLength(mailed);

      t.clock.advance(15 * 60);
      t.codes.queue.push('888888');
      const third = await t.sut.requestCode('ada@example.com', client);
      expect((await problemOf(t.sut.verifyCode(third.sessionId, '000003', client))).code).toBe('otp_invalid');
      expect((await problemOf(t.sut.verifyCode(third.sessionId, '888888', client))).options.retryAfterSeconds).toBe(
        30 * 60,
      );
      t.clock.advance(30 * 60);
      t.codes.queue.push('999999');
      const fourth = await t.sut.requestCode('ada@example.com', client);
      await expect(t.sut.verifyCode(fourth.sessionId, '999999', client)).resolves.toBeDefined();
      // The right code reset the count: the budget starts again.
      const fifth = await t.sut.requestCode('ada@example.com', client);
      expect((await problemOf(t.sut.verifyCode(fifth.sessionId, '000004', client))).code).toBe('otp_invalid');
      expect((await problemOf(t.sut.verifyCode(fifth.sessionId, '000005', client))).code).toBe('otp_invalid');
    });
  });

  describe('resend', () => {
    it('keeps the newest OTP_MAX_LIVE_CODES codes valid, sharing one attempt budget', async () => {
      t = await buildSut({ OTP_MAX_LIVE_CODES: '3', OTP_MAX_ATTEMPTS: '5' });
      t.codes.queue.push('100001', '100002', '100003', '100004');
      const { sessionId } = await t.sut.requestCode('ada@example.com', client);
      for (let i = 0; i < 3; i++) expect((await t.sut.resendCode(sessionId, client)).sessionId).toBe(sessionId);
      const dropped = await problemOf(t.sut.verifyCode(sessionId, '100001', client));
      expect(dropped.code).toBe('otp_invalid');
      expect(dropped.options.extras?.attemptsRemaining).toBe(4);
      await expect(t.sut.verifyCode(sessionId, '100002', client)).resolves.toBeDefined();
    });

    it('lets a slow first mail still work after a resend', async () => {
      t = await buildSut();
      t.codes.queue.push('200001', '200002');
      const { sessionId } = await t.sut.requestCode('ada@example.com', client);
      await t.sut.resendCode(sessionId, client);
      await expect(t.sut.verifyCode(sessionId, '200001', client)).resolves.toBeDefined();
    });

    it('honours the cooldown per address', async () => {
      t = await buildSut({ OTP_RESEND_COOLDOWN_SECONDS: '60' });
      const { sessionId } = await t.sut.requestCode('ada@example.com', client);
      t.clock.advance(20);
      const tooSoon = await problemOf(t.sut.resendCode(sessionId, client));
      expect(tooSoon.code).toBe('otp_resend_too_soon');
      expect(tooSoon.options.retryAfterSeconds).toBe(40);
      expect((await problemOf(t.sut.requestCode('ada@example.com', client))).code).toBe('otp_resend_too_soon');
      t.clock.advance(40);
      await expect(t.sut.resendCode(sessionId, client)).resolves.toBeDefined();
    });

    it('caps codes per address per hour', async () => {
      t = await buildSut({ OTP_MAX_PER_HOUR: '2' });
      await t.sut.requestCode('ada@example.com', client);
      t.clock.advance(600);
      await t.sut.requestCode('ada@example.com', client);
      t.clock.advance(600);
      const capped = await problemOf(t.sut.requestCode('ada@example.com', client));
      expect(capped.code).toBe('rate_limited');
      expect(capped.options.retryAfterSeconds).toBe(2400);
      t.clock.advance(2400);
      await expect(t.sut.requestCode('ada@example.com', client)).resolves.toBeDefined();
    });

    it('answers otp_expired for an unknown or finished login', async () => {
      t = await buildSut();
      expect((await problemOf(t.sut.resendCode('x'.repeat(48), client))).code).toBe('otp_expired');
      expect((await problemOf(t.sut.resendCode('short', client))).code).toBe('otp_expired');
    });
  });

  describe('mail failure', () => {
    it('answers mail_unavailable, withdraws the code and gives the cooldown back', async () => {
      t = await buildSut({ OTP_RESEND_COOLDOWN_SECONDS: '60' });
      t.transport.failNext = new Error('connection refused');
      t.codes.queue.push('300001');
      t.codes.secrets.push('s'.repeat(32));
      expect((await problemOf(t.sut.requestCode('ada@example.com', client))).code).toBe('mail_unavailable');
      const failedSessionId = 's'.repeat(32) + t.secrets.addressTag('ada@example.com');
      expect((await problemOf(t.sut.verifyCode(failedSessionId, '300001', client))).code).toBe('otp_expired');
      expect(await t.dataSource.getRepository(OtpToken).count()).toBe(0);
      expect(await t.auditTypes()).toEqual(['otp.requested', 'otp.send_failed']);
      await expect(t.sut.requestCode('ada@example.com', client)).resolves.toBeDefined();
    });

    it('answers a recipient the server refuses for good as it answers any other, and keeps its limits spent', async () => {
      t = await buildSut({ OTP_RESEND_COOLDOWN_SECONDS: '60' });
      t.transport.failNext = new MailRefusedError('550 5.1.1 no such mailbox');
      const ticket = await t.sut.requestCode('nobody@example.com', client);
      expect(Object.keys(ticket).sort()).toEqual(['codeLength', 'expiresAt', 'resendAvailableAt', 'sessionId']);
      expect((await problemOf(t.sut.requestCode('nobody@example.com', client))).code).toBe('otp_resend_too_soon');
      const events = await t.dataSource.getRepository(AuditEvent).find({ order: { id: 'ASC' } });
      expect(events.map((event) => event.type)).toEqual(['otp.requested', 'otp.send_failed', 'rate_limit.hit']);
      expect(events[1].details).toMatchObject({ reason: '550 5.1.1 no such mailbox' });
    });

    it('keeps the limits a mail spent and its request on record when what follows the hand-off fails', async () => {
      t = await buildSut({ OTP_RESEND_COOLDOWN_SECONDS: '60' });
      t.audit.failNext = 'otp.sent';
      await expect(t.sut.requestCode('ada@example.com', client)).resolves.toBeDefined();
      expect(await t.auditTypes()).toEqual(['otp.requested']);
      expect((await problemOf(t.sut.requestCode('ada@example.com', client))).code).toBe('otp_resend_too_soon');
    });

    it('leaves no usable code behind', async () => {
      t = await buildSut();
      const { sessionId } = await t.sut.requestCode('ada@example.com', client);
      t.transport.failNext = new Error('connection refused');
      t.codes.queue.push('400001');
      expect((await problemOf(t.sut.resendCode(sessionId, client))).code).toBe('mail_unavailable');
      expect((await problemOf(t.sut.verifyCode(sessionId, '400001', client))).code).toBe('otp_invalid');
    });
  });
});
