import { Writable } from 'node:stream';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { DataSource } from 'typeorm';
import { describeWith } from '../support/services';
import { requestCode, signIn, uniqueEmail } from '../support/factories';
import { BACKENDS, startTestApp, TestApp } from '../support/test-app';

const json = (token: string) => ({ authorization: `Bearer ${token}` });

for (const { backend, needs } of BACKENDS) {
  describeWith(needs, `OTP login end to end on ${backend}`, () => {
    let app: TestApp;
    // Every line the application writes (Nest's and the request lines), as written, to prove no code reaches one.
    const logLines: string[] = [];
    const codesSeen: string[] = [];

    const codeOf = async (email: string) => {
      const issued = await requestCode(app, email);
      codesSeen.push(issued.code);
      return issued;
    };
    const verify = (sessionId: string, code: string) =>
      app.request('POST', '/api/v1/auth/otp/verify', { json: { sessionId, code } });

    beforeAll(async () => {
      const logStream = new Writable({ write: (chunk, _encoding, done) => (logLines.push(String(chunk)), done()) });
      app = await startTestApp({
        backend,
        logStream,
        env: { OTP_RESEND_COOLDOWN_SECONDS: '0', LOG_LEVEL: 'trace', OTP_MAX_PER_HOUR: '1000', MAIL_LOCALES: 'en,de' },
      });
    });
    afterAll(() => app?.close());

    it('sends a code by mail and answers 202 with the login ticket', async () => {
      const email = uniqueEmail();
      const response = await app.request('POST', '/api/v1/auth/otp', {
        json: { email: `  ${email.toUpperCase()} ` },
        headers: { 'x-request-id': 'trace-me-1' },
      });
      expect(response.status).toBe(202);
      expect(Object.keys(response.body).sort()).toEqual(['codeLength', 'expiresAt', 'resendAvailableAt', 'sessionId']);
      expect(response.body.sessionId).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      expect(response.body.codeLength).toBe(6);
      expect(Date.parse(response.body.expiresAt) - Date.now()).toBeGreaterThan(290_000);
      expect(response.headers.get('x-request-id')).toBe('trace-me-1');
      expect(response.headers.get('cache-control')).toBe('no-store');

      const mail = await app.sink.waitForMessage(email);
      const code = /\b(\d{6})\b/.exec(mail.text)![1];
      codesSeen.push(code);
      expect(mail.html).toContain(code);
      expect(mail.text).toContain('5 minutes');
      expect(mail.from).toContain('login@login.test');
      expect(response.text).not.toContain(code);
    });

    it('writes the mail in the language the client prefers, with the sign-in link and no remote images', async () => {
      const email = uniqueEmail('locale');
      await app.request('POST', '/api/v1/auth/otp', {
        json: { email },
        headers: { 'accept-language': 'fr-CH, de;q=0.9, en;q=0.8' },
      });
      const mail = await app.sink.waitForMessage(email);
      codesSeen.push(/\b(\d{6})\b/.exec(mail.text)![1]);
      expect(mail.subject).toMatch(/^Ihr Anmeldecode: \d{6}$/);
      expect(mail.text).toContain('Falls Sie das nicht waren');
      expect(mail.text).toMatch(/http:\/\/login\.test\/login\/link\?session=[\w-]+&code=\d{6}/);
      expect(mail.html).toContain('lang="de"');
      expect(mail.html).not.toMatch(/<img|url\(|https?:\/\/(?!login\.test)/i);

      const english = uniqueEmail('locale-en');
      await app.request('POST', '/api/v1/auth/otp', { json: { email: english }, headers: { 'accept-language': 'ja' } });
      const fallback = await app.sink.waitForMessage(english);
      codesSeen.push(/\b(\d{6})\b/.exec(fallback.text)![1]);
      expect(fallback.subject).toMatch(/^Your sign-in code: \d{6}$/);
      expect(fallback.text).toContain("If this wasn't you");
    });

    it('exchanges the right code for tokens that an internal service verifies with the JWKS', async () => {
      const email = uniqueEmail();
      const { sessionId, code } = await codeOf(email);
      const response = await verify(sessionId, code);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { email, name: null } });
      expect(Object.keys(response.body.user).sort()).toEqual(['createdAt', 'email', 'id', 'lastLoginAt', 'name']);
      expect(typeof response.body.refreshToken).toBe('string');

      const jwks = createRemoteJWKSet(new URL(`${app.url}/.well-known/jwks.json`));
      const { payload, protectedHeader } = await jwtVerify(response.body.accessToken, jwks, {
        issuer: 'http://login.test',
        audience: 'http://login.test',
        algorithms: ['ES256'],
        typ: 'at+jwt',
      });
      expect(protectedHeader.kid).toBeDefined();
      expect(payload).toMatchObject({ sub: response.body.user.id, email, roles: ['user'] });
      expect(typeof payload.sid).toBe('string');
      expect(decodeProtectedHeader(response.body.accessToken).alg).toBe('ES256');
    });

    it('reads and updates the signed-in user', async () => {
      const session = await signIn(app);
      const me = await app.request('GET', '/api/v1/users/me', { headers: json(session.accessToken) });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ id: session.user.id, email: session.email, lastSubmittedFormData: null });

      const formData = { company: 'Analytical Engines', seats: 3, tags: ['a', 'b'] };
      const patched = await app.request('PATCH', '/api/v1/users/me', {
        json: { name: 'Ada', lastSubmittedFormData: formData },
        headers: json(session.accessToken),
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ name: 'Ada', lastSubmittedFormData: formData });
      const again = await app.request('GET', '/api/v1/users/me', { headers: json(session.accessToken) });
      expect(again.body).toMatchObject({ name: 'Ada', lastSubmittedFormData: formData });
    });

    it('signs the same user in again without creating another, and the profile shows the new sign-in', async () => {
      const first = await signIn(app);
      const lastLoginAt = async (token: string) =>
        (await app.request('GET', '/api/v1/users/me', { headers: json(token) })).body.lastLoginAt;
      expect(await lastLoginAt(first.accessToken)).toBe(first.user.lastLoginAt);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const second = await signIn(app, first.email);
      expect(second.user.id).toBe(first.user.id);
      expect(second.user.lastLoginAt).not.toBe(first.user.lastLoginAt);
      expect(await lastLoginAt(first.accessToken)).toBe(second.user.lastLoginAt);
    });

    it('answers a wrong code with otp_invalid and the attempts left, then otp_expired when they run out', async () => {
      const { sessionId, code } = await codeOf(uniqueEmail());
      const wrong = code === '000000' ? '000001' : '000000';
      for (const remaining of [4, 3, 2, 1, 0]) {
        const response = await verify(sessionId, wrong);
        expect(response.status).toBe(401);
        expect(response.headers.get('content-type')).toContain('application/problem+json');
        expect(response.headers.get('www-authenticate')).toBe('Bearer');
        expect(response.body).toMatchObject({ code: 'otp_invalid', status: 401, attemptsRemaining: remaining });
      }
      expect((await verify(sessionId, code)).body.code).toBe('otp_expired');
    });

    it('accepts a login only once', async () => {
      const { sessionId, code } = await codeOf(uniqueEmail());
      expect((await verify(sessionId, code)).status).toBe(200);
      const replay = await verify(sessionId, code);
      expect(replay.status).toBe(401);
      expect(replay.body.code).toBe('otp_expired');
    });

    it('lets exactly one of 50 concurrent verifications of the right code succeed', async () => {
      const { sessionId, code } = await codeOf(uniqueEmail());
      const responses = await Promise.all(Array.from({ length: 50 }, () => verify(sessionId, code)));
      const statuses = responses.map((response) => response.status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(1);
      expect(
        responses.filter((response) => response.status === 401 && response.body.code === 'otp_expired'),
      ).toHaveLength(49);
    });

    it('resends a code for the same login and keeps the first one valid', async () => {
      const email = uniqueEmail();
      const { sessionId, code: first } = await codeOf(email);
      const resent = await app.request('POST', '/api/v1/auth/otp/resend', { json: { sessionId } });
      expect(resent.status).toBe(202);
      expect(resent.body.sessionId).toBe(sessionId);
      const second = await app.sink.codeFor(email, 2);
      codesSeen.push(second);
      expect((await verify(sessionId, first)).status).toBe(200);
    });

    it('ends an earlier login when the address asks for a new code', async () => {
      const email = uniqueEmail();
      const old = await codeOf(email);
      const fresh = await codeOf(email);
      expect((await verify(old.sessionId, old.code)).body.code).toBe('otp_expired');
      expect((await verify(fresh.sessionId, fresh.code)).status).toBe(200);
    });

    it('answers otp_expired for a resend of an unknown login', async () => {
      const response = await app.request('POST', '/api/v1/auth/otp/resend', { json: { sessionId: 'A'.repeat(48) } });
      expect(response.status).toBe(401);
      expect(response.body.code).toBe('otp_expired');
    });

    it('answers the same for a known and an unknown address', async () => {
      const known = await signIn(app);
      const [forKnown, forUnknown] = await Promise.all([
        app.request('POST', '/api/v1/auth/otp', { json: { email: known.email } }),
        app.request('POST', '/api/v1/auth/otp', { json: { email: uniqueEmail('never-seen') } }),
      ]);
      expect(forKnown.status).toBe(202);
      expect(forUnknown.status).toBe(202);
      expect(Object.keys(forKnown.body).sort()).toEqual(Object.keys(forUnknown.body).sort());
    });

    it('answers 202 when the mail server refuses the message for good, as for any address, and records the refusal', async () => {
      const email = uniqueEmail('refused');
      app.sink.mode = 'reject';
      try {
        const response = await app.request('POST', '/api/v1/auth/otp', { json: { email } });
        expect(response.status).toBe(202);
      } finally {
        app.sink.mode = 'accept';
      }
      const events = await app.app
        .get(DataSource)
        .query(`SELECT type FROM audit_events WHERE email = '${email}' ORDER BY id`);
      expect(events.map((event: { type: string }) => event.type)).toEqual(['otp.requested', 'otp.send_failed']);
    });

    it('records every step in the audit trail with who asked', async () => {
      const email = uniqueEmail('audited');
      const { sessionId, code } = await codeOf(email);
      await verify(sessionId, code === '999999' ? '999998' : '999999');
      const ok = await app.request('POST', '/api/v1/auth/otp/verify', {
        json: { sessionId, code },
        headers: { 'user-agent': 'audit-test/1.0', 'x-request-id': 'audit-req-1' },
      });
      expect(ok.status).toBe(200);
      const events = await app.app
        .get(DataSource)
        .query(
          `SELECT type, ip, user_agent, request_id, user_id, session_id FROM audit_events WHERE email = '${email}' ORDER BY id`,
        );
      expect(events.map((event: { type: string }) => event.type)).toEqual([
        'otp.requested',
        'otp.sent',
        'otp.failed',
        'otp.verified',
        'session.created',
      ]);
      const verified = events[3];
      expect(verified).toMatchObject({
        ip: '127.0.0.1',
        user_agent: 'audit-test/1.0',
        request_id: 'audit-req-1',
        user_id: ok.body.user.id,
      });
      expect(verified.session_id).toBeTruthy();
    });

    it('keeps every code out of the database and the logs', async () => {
      expect(codesSeen.length).toBeGreaterThan(5);
      const dataSource = app.app.get(DataSource);
      const tables = ['users', 'otp_tokens', 'sessions', 'audit_events'];
      const dump = JSON.stringify(
        await Promise.all(tables.map((table) => dataSource.query(`SELECT * FROM "${table}"`))),
      );
      const logs = logLines.join('\n');
      expect(logs).toContain('"msg":"request completed"');
      expect(logs).toContain('/api/v1/auth/otp/verify');
      // A code on its own, not six digits inside a timestamp or an id.
      for (const code of codesSeen) {
        const alone = new RegExp(`(?<![0-9A-Za-z])${code}(?![0-9A-Za-z])`);
        expect(dump).not.toMatch(alone);
        expect(logs).not.toMatch(alone);
      }
    });
  });
}
