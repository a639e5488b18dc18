import { DataSource } from 'typeorm';
import { AuditEvent } from '../../src/audit/audit-event.entity';
import { requestCode, uniqueEmail } from '../support/factories';
import { describeWith } from '../support/services';
import { BACKENDS, startTestApp, TestApp } from '../support/test-app';

const send = (app: TestApp, email: string) => app.request('POST', '/api/v1/auth/otp', { json: { email } });
const verify = (app: TestApp, sessionId: string, code: string) =>
  app.request('POST', '/api/v1/auth/otp/verify', { json: { sessionId, code } });
const wrong = (code: string) => (code === '000000' ? '000001' : '000000');

const auditOf = (app: TestApp, email: string) =>
  app.app
    .get(DataSource)
    .getRepository(AuditEvent)
    .find({ where: { email }, order: { id: 'ASC' } });

for (const { backend, needs } of BACKENDS) {
  describeWith(needs, `per-address limits that no answer gives back (${backend})`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({
        backend,
        env: { OTP_RESEND_COOLDOWN_SECONDS: '60', OTP_MAX_FAILED_PER_ADDRESS: '3', OTP_MAX_ATTEMPTS: '5' },
      });
    });
    afterAll(() => app?.close());

    it('answers a mailbox the server refuses for good exactly as a real one, keeps the cooldown spent and audits the refusal', async () => {
      const real = uniqueEmail('real');
      const ghost = uniqueEmail('ghost');
      app.sink.refusedRecipients.set(ghost, 550);
      const [taken, refused] = [await send(app, real), await send(app, ghost)];
      expect([taken.status, refused.status]).toEqual([202, 202]);
      expect(Object.keys(refused.body).sort()).toEqual(Object.keys(taken.body).sort());

      const again = await send(app, ghost);
      expect([again.status, again.body.code]).toEqual([429, 'otp_resend_too_soon']);
      const events = await auditOf(app, ghost);
      expect(events.map((event) => event.type)).toEqual(['otp.requested', 'otp.send_failed', 'rate_limit.hit']);
      expect(String(events[1].details.reason)).toMatch(/^550\b/);
    });

    it('answers an outage of the mail server 503, and gives back what it spent since nothing was sent', async () => {
      const email = uniqueEmail('busy');
      app.sink.refusedRecipients.set(email, 451);
      const unavailable = await send(app, email);
      expect([unavailable.status, unavailable.body.code]).toEqual([503, 'mail_unavailable']);
      app.sink.refusedRecipients.delete(email);
      expect((await send(app, email)).status).toBe(202);
    });

    it('locks an address after its failure budget for at most an hour and mails it nothing while locked', async () => {
      const email = uniqueEmail('locked');
      const { sessionId, code } = await requestCode(app, email);
      for (let i = 0; i < 3; i++) expect((await verify(app, sessionId, wrong(code))).body.code).toBe('otp_invalid');
      const locked = await verify(app, sessionId, code);
      expect([locked.status, locked.body.code]).toEqual([429, 'rate_limited']);
      const retryAfter = Number(locked.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(3600);

      const mailed = app.sink.messagesTo(email).length;
      const refused = await send(app, email);
      expect([refused.status, refused.body.code]).toEqual([429, 'rate_limited']);
      expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(3600);
      expect(app.sink.messagesTo(email)).toHaveLength(mailed);
    });
  });
}
