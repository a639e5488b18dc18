import { DataSource } from 'typeorm';
import { Session } from '../../src/auth/session.entity';
import { Clock } from '../../src/common/clock';
import { OtpToken } from '../../src/otp/otp-token.entity';
import { User } from '../../src/users/user.entity';
import { mintServiceToken } from '../support/cli';
import { requestCode, signIn, uniqueEmail } from '../support/factories';
import { describeWith } from '../support/services';
import { BACKENDS, startTestApp, TestApp } from '../support/test-app';

/** Issue 19: the account's lifecycle past sign-in (API.md, "The account's lifecycle"). */

const ME = '/api/v1/users/me';
const ADMIN = 'account-admin@example.com';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

for (const { backend, needs } of BACKENDS) {
  describeWith(needs, `the account's lifecycle on ${backend}`, () => {
    let app: TestApp;
    let admin: Awaited<ReturnType<typeof signIn>>;

    const rows = (entity: typeof Session | typeof OtpToken | typeof User, where: Record<string, string>) =>
      app.app.get(DataSource).getRepository(entity).countBy(where);
    const audit = (query: string) =>
      app.request('GET', `/api/v1/admin/audit${query}`, { headers: bearer(admin.accessToken) });

    /** Runs `action` with the service's clock `seconds` ahead. */
    async function later<T>(seconds: number, action: () => Promise<T>): Promise<T> {
      const clock = app.app.get(Clock);
      const moved = jest.spyOn(clock, 'now').mockReturnValue(Date.now() + seconds * 1000);
      try {
        return await action();
      } finally {
        moved.mockRestore();
      }
    }

    beforeAll(async () => {
      app = await startTestApp({ backend, env: { ADMIN_EMAILS: ADMIN, OTP_RESEND_COOLDOWN_SECONDS: '0' } });
      admin = await signIn(app, ADMIN);
    });
    afterAll(() => app?.close());

    describe('the recent-sign-in rule', () => {
      it('refuses deletion once the code sign-in is older than ACCOUNT_REAUTH_SECONDS, even after a refresh', async () => {
        const user = await signIn(app);
        const stale = await later(601, () => app.request('DELETE', ME, { headers: bearer(user.accessToken) }));
        expect(stale.status).toBe(401);
        expect(stale.body).toMatchObject({ code: 'reauthentication_required', status: 401 });
        expect(stale.headers.get('www-authenticate')).toBe('Bearer');
        expect(stale.headers.get('content-type')).toContain('application/problem+json');

        const refreshedThenDeleted = await later(601, async () => {
          const refreshed = await app.request('POST', '/api/v1/auth/refresh', {
            json: { refreshToken: user.refreshToken },
          });
          expect(refreshed.status).toBe(200);
          return app.request('DELETE', ME, { headers: bearer(refreshed.body.accessToken) });
        });
        expect(refreshedThenDeleted.body).toMatchObject({ code: 'reauthentication_required' });
        expect(await rows(User, { id: user.user.id })).toBe(1);

        const again = await signIn(app, user.email);
        expect((await app.request('DELETE', ME, { headers: bearer(again.accessToken) })).status).toBe(204);
      });

      it('allows deletion within ACCOUNT_REAUTH_SECONDS of the code sign-in', async () => {
        const user = await signIn(app);
        const within = await later(599, () => app.request('DELETE', ME, { headers: bearer(user.accessToken) }));
        expect(within.status).toBe(204);
      });

      it('takes ACCOUNT_REAUTH_SECONDS from the configuration', async () => {
        const strict = await startTestApp({ backend, env: { ACCOUNT_REAUTH_SECONDS: '1' } });
        try {
          const user = await signIn(strict);
          await new Promise((resolve) => setTimeout(resolve, 1100));
          const refused = await strict.request('DELETE', ME, { headers: bearer(user.accessToken) });
          expect(refused.body).toMatchObject({ code: 'reauthentication_required' });
        } finally {
          await strict.close();
        }
      });
    });

    describe('deletion by the user', () => {
      it('deletes the user, their sessions and code records; every token stops; the audit trail stays', async () => {
        const email = uniqueEmail('delete-me');
        const other = await signIn(app, email);
        const user = await signIn(app, email);
        await requestCode(app, email).catch(() => undefined); // a code record of a login in progress
        expect(await rows(Session, { userId: user.user.id })).toBe(2);

        const deleted = await app.request('DELETE', ME, { headers: bearer(user.accessToken) });
        expect(deleted.status).toBe(204);

        for (const token of [user.accessToken, other.accessToken])
          expect((await app.request('GET', ME, { headers: bearer(token) })).status).toBe(401);
        for (const refreshToken of [user.refreshToken, other.refreshToken])
          expect((await app.request('POST', '/api/v1/auth/refresh', { json: { refreshToken } })).status).toBe(401);
        expect(await rows(User, { id: user.user.id })).toBe(0);
        expect(await rows(Session, { userId: user.user.id })).toBe(0);
        expect(await rows(OtpToken, { email })).toBe(0);

        const events = (await audit(`?userId=${user.user.id}&limit=500`)).body.items as {
          type: string;
          details: Record<string, unknown>;
          email: string;
        }[];
        expect(events.map((event) => event.type)).toEqual(
          expect.arrayContaining(['user.deleted', 'session.revoked', 'session.created', 'otp.verified']),
        );
        expect(events.find((event) => event.type === 'user.deleted')).toMatchObject({ email, details: { by: 'self' } });

        const anew = await signIn(app, email);
        expect(anew.user.id).not.toBe(user.user.id);
        expect((await app.request('GET', ME, { headers: bearer(anew.accessToken) })).body).toMatchObject({ email });
      });

      it('is for users: a service token gets 403', async () => {
        const token = await mintServiceToken(app, 'users:read');
        const refused = await app.request('DELETE', ME, { headers: bearer(token) });
        expect(refused.body).toMatchObject({ code: 'forbidden' });
      });
    });

    describe('deletion by an admin', () => {
      it('deletes any user the same way, for admins only', async () => {
        const user = await signIn(app);
        const path = `/api/v1/admin/users/${user.user.id}`;
        expect((await app.request('DELETE', path, { headers: bearer(user.accessToken) })).body).toMatchObject({
          code: 'forbidden',
        });
        expect((await app.request('DELETE', path)).status).toBe(401);

        expect((await app.request('DELETE', path, { headers: bearer(admin.accessToken) })).status).toBe(204);
        expect((await app.request('GET', ME, { headers: bearer(user.accessToken) })).status).toBe(401);
        expect(await rows(User, { id: user.user.id })).toBe(0);
        const [event] = (await audit(`?type=user.deleted&userId=${user.user.id}`)).body.items;
        expect(event).toMatchObject({ details: { by: 'admin', adminId: admin.user.id } });

        for (const id of [user.user.id, 'not-a-uuid'])
          expect(
            (await app.request('DELETE', `/api/v1/admin/users/${id}`, { headers: bearer(admin.accessToken) })).body,
          ).toMatchObject({ code: 'not_found', status: 404 });
      });
    });

    describe('change of address', () => {
      const EMAIL = `${ME}/email`;

      /** Requests a change to `newEmail` and reads its code from the new address's mail. */
      async function requestChange(user: { accessToken: string }, newEmail: string, typed = newEmail) {
        const before = app.sink.messagesTo(newEmail).length;
        const response = await app.request('POST', EMAIL, {
          json: { newEmail: typed },
          headers: bearer(user.accessToken),
        });
        expect(response.status).toBe(202);
        return { ...response.body, code: await app.sink.codeFor(newEmail, before + 1) } as {
          changeId: string;
          expiresAt: string;
          codeLength: number;
          code: string;
        };
      }
      const verify = (user: { accessToken: string }, changeId: string, code: string) =>
        app.request('POST', `${EMAIL}/verify`, { json: { changeId, code }, headers: bearer(user.accessToken) });

      it('moves the user to the new address; other sessions stay and their next token carries it; the old address is told', async () => {
        const oldEmail = uniqueEmail('old');
        const newEmail = uniqueEmail('New').toLowerCase();
        const elsewhere = await signIn(app, oldEmail);
        const user = await signIn(app, oldEmail);
        const change = await requestChange(user, newEmail, ` ${newEmail.toUpperCase()} `);
        expect(change).toMatchObject({ changeId: expect.any(String), codeLength: 6 });
        const codeMail = app.sink.messagesTo(newEmail).at(-1)!;
        expect(codeMail.text).not.toContain('/login/link');
        expect(codeMail.text).toContain(`@login.test #${change.code}`);

        const wrong = change.code === '000000' ? '000001' : '000000';
        expect((await verify(user, change.changeId, wrong)).body).toMatchObject({
          code: 'otp_invalid',
          attemptsRemaining: 4,
        });
        const verified = await verify(user, change.changeId, change.code);
        expect(verified.status).toBe(200);
        expect(verified.body).toMatchObject({ id: user.user.id, email: newEmail });
        expect((await verify(user, change.changeId, change.code)).body).toMatchObject({ code: 'otp_expired' });

        const notice = await app.sink.waitForMessage(oldEmail, 3);
        expect(notice.subject).toBe('Your sign-in address was changed');
        expect(notice.text).toContain(`${newEmail[0]}…@e….com`);
        expect(notice.text + notice.html).not.toContain(newEmail);
        expect(notice.html).not.toMatch(/<a\s/i);
        expect(notice.text).not.toMatch(/https?:\/\//);

        expect((await app.request('GET', ME, { headers: bearer(elsewhere.accessToken) })).body).toMatchObject({
          email: newEmail,
        });
        const refreshed = await app.request('POST', '/api/v1/auth/refresh', {
          json: { refreshToken: elsewhere.refreshToken },
        });
        expect(refreshed.status).toBe(200);
        expect(JSON.parse(Buffer.from(refreshed.body.accessToken.split('.')[1], 'base64url').toString())).toMatchObject(
          {
            email: newEmail,
          },
        );

        const [event] = (await audit(`?type=user.email_changed&userId=${user.user.id}`)).body.items;
        expect(event).toMatchObject({ email: newEmail, details: { previousEmail: oldEmail } });
        expect((await signIn(app, newEmail)).user.id).toBe(user.user.id);
        expect((await signIn(app, oldEmail)).user.id).not.toBe(user.user.id);
      });

      it('answers the request the same for a taken address, and says 409 email_taken only at verification', async () => {
        const taken = await signIn(app);
        const user = await signIn(app);
        const free = await requestChange(user, uniqueEmail('free'));
        const change = await requestChange(user, taken.email);
        expect(Object.keys(change).sort()).toEqual(Object.keys(free).sort());
        const refused = await verify(user, change.changeId, change.code);
        expect(refused.status).toBe(409);
        expect(refused.body).toMatchObject({ code: 'email_taken' });
        expect((await verify(user, change.changeId, change.code)).body).toMatchObject({ code: 'otp_expired' });
        expect((await app.request('GET', ME, { headers: bearer(user.accessToken) })).body.email).toBe(user.email);
      });

      it('needs a recent sign-in to request, and a code bound to the user who requested it', async () => {
        const user = await signIn(app);
        const stale = await later(601, () =>
          app.request('POST', EMAIL, { json: { newEmail: uniqueEmail() }, headers: bearer(user.accessToken) }),
        );
        expect(stale.body).toMatchObject({ code: 'reauthentication_required' });

        const boundEmail = uniqueEmail('bound');
        const change = await requestChange(user, boundEmail);
        const stranger = await signIn(app);
        expect((await verify(stranger, change.changeId, change.code)).body).toMatchObject({ code: 'otp_invalid' });
        expect((await verify(user, change.changeId, change.code)).status).toBe(200);

        const same = await app.request('POST', EMAIL, {
          json: { newEmail: boundEmail },
          headers: bearer(user.accessToken),
        });
        expect(same.body).toMatchObject({ code: 'validation_failed' });
        for (const body of [{}, { newEmail: 'not an address' }, { newEmail: 'a@b.example', extra: 1 }])
          expect((await app.request('POST', EMAIL, { json: body, headers: bearer(user.accessToken) })).status).toBe(
            400,
          );
      });

      it("shares the new address's limits with its sign-in codes, and leaves its sign-in login alone", async () => {
        const limited = await startTestApp({ backend, env: { OTP_RESEND_COOLDOWN_SECONDS: '60' } });
        try {
          const user = await signIn(limited);
          const newEmail = uniqueEmail('limited');
          const login = await requestCode(limited, newEmail);
          const refused = await limited.request('POST', EMAIL, {
            json: { newEmail },
            headers: bearer(user.accessToken),
          });
          expect(refused.body).toMatchObject({ code: 'otp_resend_too_soon' });
          expect(refused.headers.get('retry-after')).toBeTruthy();
          const signedIn = await limited.request('POST', '/api/v1/auth/otp/verify', {
            json: { sessionId: login.sessionId, code: login.code },
          });
          expect(signedIn.status).toBe(200);
        } finally {
          await limited.close();
        }
      });
    });

    describe('export', () => {
      it('hands the user their profile, sessions and own audit events as an attachment', async () => {
        const user = await signIn(app);
        await app.request('PATCH', ME, { json: { name: 'Ada' }, headers: bearer(user.accessToken) });
        const exported = await app.request('GET', `${ME}/export`, { headers: bearer(user.accessToken) });
        expect(exported.status).toBe(200);
        expect(exported.headers.get('content-disposition')).toMatch(/^attachment/);
        expect(exported.headers.get('cache-control')).toBe('no-store');
        expect(exported.body.user).toMatchObject({ id: user.user.id, email: user.email, name: 'Ada' });
        expect(exported.body.sessions).toEqual([expect.objectContaining({ revokedAt: null, ip: '127.0.0.1' })]);
        const types = (exported.body.auditEvents as { type: string; userId: string }[]).map((event) => event.type);
        expect(types).toEqual(expect.arrayContaining(['otp.verified', 'session.created']));
        for (const event of exported.body.auditEvents as { userId: string }[]) expect(event.userId).toBe(user.user.id);
        expect(exported.text).not.toContain(user.refreshToken);
      });
    });
  });
}

describeWith(['postgres', 'redis'], 'an account deleted on one instance', () => {
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    first = await startTestApp({ backend: 'postgres-redis' });
    second = await startTestApp({ backend: 'postgres-redis', sameDeploymentAs: first, sink: first.sink });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('stops its tokens at once on every other instance, even one that verified them before', async () => {
    const user = await signIn(first);
    expect((await second.request('GET', ME, { headers: bearer(user.accessToken) })).status).toBe(200);
    expect((await first.request('DELETE', ME, { headers: bearer(user.accessToken) })).status).toBe(204);
    const refused = await second.request('GET', ME, { headers: bearer(user.accessToken) });
    expect(refused.body).toMatchObject({ code: 'unauthorized' });
    const refreshed = await second.request('POST', '/api/v1/auth/refresh', {
      json: { refreshToken: user.refreshToken },
    });
    expect(refreshed.status).toBe(401);
  });
});
