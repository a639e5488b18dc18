import { randomUUID } from 'node:crypto';
import { DataSource, In } from 'typeorm';
import { Secrets } from '../../src/common/secrets';
import { WebhookDelivery } from '../../src/webhooks/webhook-delivery.entity';
import { WebhookEndpoint } from '../../src/webhooks/webhook-endpoint.entity';
import { WebhookEvent } from '../../src/webhooks/webhook-event.entity';
import { WebhooksRepository } from '../../src/webhooks/webhooks.repository';
import { newWebhookSecret } from '../../src/webhooks/webhook-signature';
import { runCli } from '../support/cli';
import { requestCode, signIn, uniqueEmail } from '../support/factories';
import { waitUntil } from '../support/app-process';
import { describeWith } from '../support/services';
import { BACKENDS, startTestApp, TestApp } from '../support/test-app';
import { WebhookReceiver } from '../support/webhook-receiver';

/** Webhooks: registered by an admin, written with the change they describe, signed, retried. */

const ADMIN = 'hooks-admin@example.com';
const WEBHOOKS = '/api/v1/admin/webhooks';
const ALL_EVENTS = [
  'user.created',
  'user.deleted',
  'user.email_changed',
  'session.created',
  'session.revoked',
  'refresh_token.reused',
  'otp.locked',
];
const RETRY_DELAYS_MS = [100, 200, 300];
const TIMEOUT_MS = 400;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

for (const { backend, needs } of BACKENDS) {
  describeWith(needs, `webhooks on ${backend}`, () => {
    let app: TestApp;
    let admin: string;
    const receivers: WebhookReceiver[] = [];

    const register = (body: unknown, token = admin) =>
      app.request('POST', WEBHOOKS, { json: body, headers: bearer(token) });
    const deliveries = async (id: string) =>
      (await app.request('GET', `${WEBHOOKS}/${id}/deliveries`, { headers: bearer(admin) })).body.items as {
        eventId: string;
        type: string;
        attempt: number;
        status: number | null;
        error: string | null;
        at: string;
        nextAttemptAt: string | null;
      }[];
    const newReceiver = async () => {
      const receiver = await new WebhookReceiver().start();
      receivers.push(receiver);
      return receiver;
    };
    /** A receiver subscribed to `events`, with its secret. */
    const subscribed = async (events = ALL_EVENTS) => {
      const receiver = await newReceiver();
      const created = await register({ url: receiver.url, events });
      expect(created.status).toBe(201);
      return { receiver, id: created.body.id as string, secret: created.body.secret as string };
    };

    beforeAll(async () => {
      app = await startTestApp({
        backend,
        env: {
          ADMIN_EMAILS: ADMIN,
          WEBHOOK_ALLOW_PRIVATE: 'true',
          WEBHOOK_POLL_MS: '50',
          WEBHOOK_RETRY_DELAYS: RETRY_DELAYS_MS.map((ms) => `${ms}ms`).join(','),
          WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
          OTP_MAX_ATTEMPTS: '2',
          JWT_REFRESH_GRACE_SECONDS: '0',
          OTP_RESEND_COOLDOWN_SECONDS: '0',
        },
      });
      admin = (await signIn(app, ADMIN)).accessToken;
    });
    afterAll(async () => {
      await app?.close();
      for (const receiver of receivers) await receiver.stop();
    });

    describe('registration', () => {
      it('shows the secret once, stores it only sealed, and lists endpoints without it', async () => {
        const receiver = await newReceiver();
        const created = await register({ url: receiver.url, events: ['user.created', 'session.revoked'] });
        expect(created.status).toBe(201);
        expect(created.body).toEqual({
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          url: receiver.url,
          events: ['user.created', 'session.revoked'],
          secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
        });
        const rows: { id: string; secret_sealed: string }[] = await app.app
          .get(DataSource)
          .query('SELECT id, secret_sealed FROM webhook_endpoints');
        const stored = rows.find((row) => row.id === created.body.id)!;
        expect(stored.secret_sealed).not.toContain(created.body.secret.slice('whsec_'.length));
        expect(stored.secret_sealed).not.toContain(Buffer.from(created.body.secret.slice(6), 'base64').toString('hex'));

        const list = await app.request('GET', WEBHOOKS, { headers: bearer(admin) });
        expect(list.status).toBe(200);
        expect(list.body.items).toContainEqual({
          id: created.body.id,
          url: receiver.url,
          events: ['user.created', 'session.revoked'],
          createdAt: expect.any(String),
        });
        expect(list.text).not.toContain('whsec_');

        expect((await app.request('DELETE', `${WEBHOOKS}/${created.body.id}`, { headers: bearer(admin) })).status).toBe(
          204,
        );
        expect((await app.request('DELETE', `${WEBHOOKS}/${created.body.id}`, { headers: bearer(admin) })).status).toBe(
          404,
        );
        expect(
          (await app.request('GET', `${WEBHOOKS}/${created.body.id}/deliveries`, { headers: bearer(admin) })).status,
        ).toBe(404);

        const audited = async (type: string) =>
          (await app.request('GET', `/api/v1/admin/audit?type=${type}`, { headers: bearer(admin) })).body.items as {
            email: string;
            details: Record<string, unknown>;
          }[];
        for (const type of ['webhook.created', 'webhook.removed'])
          expect(await audited(type)).toContainEqual(
            expect.objectContaining({
              email: ADMIN,
              details: expect.objectContaining({ webhookId: created.body.id, url: receiver.url }),
            }),
          );
        expect(JSON.stringify(await audited('webhook.created'))).not.toContain('whsec_');
      });

      it('is for admins only', async () => {
        const user = (await signIn(app)).accessToken;
        expect((await register({ url: 'https://hooks.example.com/', events: ['user.created'] }, user)).status).toBe(
          403,
        );
        expect((await app.request('GET', WEBHOOKS, { headers: bearer(user) })).status).toBe(403);
        expect((await app.request('GET', WEBHOOKS)).status).toBe(401);
      });

      it.each([
        [{ url: 'ftp://hooks.example.com/', events: ['user.created'] }, 'url'],
        [{ url: 'not a url', events: ['user.created'] }, 'url'],
        [{ url: 'https://user:pw@hooks.example.com/', events: ['user.created'] }, 'url'],
        [{ url: 'https://hooks.example.com/', events: [] }, 'events'],
        [{ url: 'https://hooks.example.com/', events: ['user.created', 'otp.verified'] }, 'events[1]'],
        [{ url: 'https://hooks.example.com/', events: 'user.created' }, 'events'],
        [{ events: ['user.created'] }, 'url'],
      ])('refuses %j with 400 validation_failed naming %s', async (body, field) => {
        const response = await register(body);
        expect(response.status).toBe(400);
        expect(response.body.code).toBe('validation_failed');
        expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(field);
      });

      it('registers, lists and removes through the command line', async () => {
        const receiver = await newReceiver();
        const added = await runCli(app, 'webhook', 'add', '--url', receiver.url, '--events', 'user.created,otp.locked');
        expect(added.status).toBe(0);
        const printed = JSON.parse(added.stdout) as { id: string; url: string; events: string[]; secret: string };
        expect(printed).toEqual({
          id: expect.any(String),
          url: receiver.url,
          events: ['user.created', 'otp.locked'],
          secret: expect.stringMatching(/^whsec_/),
        });
        const listed = await runCli(app, 'webhook', 'list');
        expect(listed.stdout).toContain(printed.id);
        expect(listed.stdout).not.toContain('whsec_');
        const refused = await runCli(app, 'webhook', 'add', '--url', 'gopher://x.example/', '--events', 'user.created');
        expect(refused.status).not.toBe(0);
        expect(refused.stderr).toContain('--url');
        expect((await runCli(app, 'webhook', 'remove', printed.id)).status).toBe(0);
        expect((await runCli(app, 'webhook', 'list')).stdout).not.toContain(printed.id);
      });
    });

    describe('delivery', () => {
      it('delivers user.created and session.created, signed per Standard Webhooks, to subscribers only', async () => {
        const { receiver, id, secret } = await subscribed();
        const other = await subscribed(['otp.locked']);
        const signedIn = await signIn(app);
        const { email, user } = signedIn;
        await waitUntil(async () => receiver.received.length >= 2, 'two events delivered');
        const events = receiver.verified(secret);
        expect(events.map((event) => event.type).sort()).toEqual(['session.created', 'user.created']);
        const created = events.find((event) => event.type === 'user.created')!;
        expect(created.data).toEqual({ userId: user.id, email });
        expect(created.id).toMatch(/^msg_/);
        const session = events.find((event) => event.type === 'session.created')!;
        expect(session.data).toEqual({ userId: user.id, sessionId: expect.any(String), email });
        const bodies = receiver.received.map(({ body }) => body).join();
        for (const secretValue of [signedIn.accessToken, signedIn.refreshToken])
          expect(bodies).not.toContain(secretValue);
        expect(other.receiver.received).toEqual([]);

        // The receiver has the request before the service has its answer on record.
        await waitUntil(async () => (await deliveries(id)).length === 2, 'both attempts on record');
        const history = await deliveries(id);
        expect(history).toHaveLength(2);
        expect(history[0]).toEqual({
          eventId: expect.stringMatching(/^msg_/),
          type: expect.any(String),
          attempt: 1,
          status: 204,
          error: null,
          at: expect.any(String),
          nextAttemptAt: null,
        });
      });

      it('does not send user.created again when a known user signs in', async () => {
        const email = uniqueEmail();
        await signIn(app, email);
        const { receiver, secret } = await subscribed(['user.created', 'session.created']);
        await signIn(app, email);
        await waitUntil(async () => receiver.received.length >= 1, 'session.created delivered');
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(receiver.verified(secret).map((event) => event.type)).toEqual(['session.created']);
      });

      it('delivers session.revoked, refresh_token.reused and otp.locked', async () => {
        const { receiver, secret } = await subscribed(['session.revoked', 'refresh_token.reused', 'otp.locked']);
        const first = await signIn(app);
        expect((await app.request('POST', '/api/v1/auth/logout', { headers: bearer(first.accessToken) })).status).toBe(
          204,
        );

        const second = await signIn(app);
        const refreshed = await app.request('POST', '/api/v1/auth/refresh', {
          json: { refreshToken: second.refreshToken },
        });
        expect(refreshed.status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 1100));
        const reused = await app.request('POST', '/api/v1/auth/refresh', {
          json: { refreshToken: second.refreshToken },
        });
        expect(reused.body.code).toBe('refresh_token_reused');

        const locked = uniqueEmail('locked');
        const { sessionId, code } = await requestCode(app, locked);
        const wrong = code === '000000' ? '000001' : '000000';
        for (let i = 0; i < 2; i++)
          await app.request('POST', '/api/v1/auth/otp/verify', { json: { sessionId, code: wrong } });

        await waitUntil(async () => receiver.received.length >= 4, 'four events delivered');
        const events = receiver.verified(secret);
        expect(events).toEqual(
          expect.arrayContaining([
            expect.objectContaining({
              type: 'session.revoked',
              data: expect.objectContaining({ userId: first.user.id, reason: expect.any(String) }),
            }),
            expect.objectContaining({
              type: 'session.revoked',
              data: expect.objectContaining({ userId: second.user.id }),
            }),
            expect.objectContaining({
              type: 'refresh_token.reused',
              data: expect.objectContaining({ userId: second.user.id, sessionId: expect.any(String) }),
            }),
            expect.objectContaining({ type: 'otp.locked', data: { userId: null, email: locked } }),
          ]),
        );
        expect(JSON.stringify(events)).not.toContain(second.refreshToken);
      });

      it('delivers user.email_changed and user.deleted', async () => {
        const { receiver, secret } = await subscribed(['user.email_changed', 'user.deleted']);
        const moving = await signIn(app);
        const newEmail = uniqueEmail('moved');
        const change = await app.request('POST', '/api/v1/users/me/email', {
          json: { newEmail },
          headers: bearer(moving.accessToken),
        });
        const code = await app.sink.codeFor(newEmail);
        const moved = await app.request('POST', '/api/v1/users/me/email/verify', {
          json: { changeId: change.body.changeId, code },
          headers: bearer(moving.accessToken),
        });
        expect(moved.status).toBe(200);
        expect((await app.request('DELETE', '/api/v1/users/me', { headers: bearer(moving.accessToken) })).status).toBe(
          204,
        );
        await waitUntil(async () => receiver.received.length >= 2, 'both events delivered');
        // Deliveries are independent: the receiver may get them in either order.
        const events = receiver.verified(secret).sort((a, b) => a.type.localeCompare(b.type));
        expect(events).toEqual([
          expect.objectContaining({
            type: 'user.deleted',
            data: expect.objectContaining({ userId: moving.user.id, email: newEmail }),
          }),
          expect.objectContaining({
            type: 'user.email_changed',
            data: expect.objectContaining({ userId: moving.user.id, email: newEmail, previousEmail: moving.email }),
          }),
        ]);
        expect(receiver.received.map(({ body }) => body).join()).not.toContain(code);
      });

      it('retries a refusing receiver with growing delays and the same webhook-id until it accepts', async () => {
        const { receiver, id, secret } = await subscribed(['user.created']);
        receiver.answerNext(503, 500, 429);
        await signIn(app);
        await waitUntil(async () => (await deliveries(id))[0]?.status === 204, 'accepted at last');
        const events = receiver.verified(secret);
        expect(events).toHaveLength(4);
        expect(new Set(events.map((event) => event.id)).size).toBe(1);
        expect(new Set(receiver.received.map(({ body }) => body)).size).toBe(1);

        const history = await deliveries(id);
        expect(history.map(({ attempt, status }) => [attempt, status])).toEqual([
          [4, 204],
          [3, 429],
          [2, 500],
          [1, 503],
        ]);
        expect(history[3].error).toBe('HTTP 503');
        // Each retry waits the next delay of the schedule after the failure before it.
        for (let i = 3; i >= 1; i--) {
          const failed = history[i];
          expect(new Date(failed.nextAttemptAt!).getTime() - new Date(failed.at).getTime()).toBe(
            RETRY_DELAYS_MS[3 - i],
          );
          expect(new Date(history[i - 1].at).getTime()).toBeGreaterThanOrEqual(
            new Date(failed.nextAttemptAt!).getTime(),
          );
        }
        expect(history[0].nextAttemptAt).toBeNull();
      });

      it('counts no answer within the timeout as a failure, and gives up after the last retry', async () => {
        const { receiver, id } = await subscribed(['user.created']);
        receiver.answerNext('hang', 500, 500, 500);
        await signIn(app);
        await waitUntil(async () => (await deliveries(id)).length === 4, 'four attempts', 10_000);
        await new Promise((resolve) => setTimeout(resolve, 500));
        const history = await deliveries(id);
        expect(history).toHaveLength(4);
        expect(history[3]).toEqual(
          expect.objectContaining({ attempt: 1, status: null, error: `no answer within ${TIMEOUT_MS} ms` }),
        );
        expect(history[0]).toEqual(expect.objectContaining({ attempt: 4, status: 500, nextAttemptAt: null }));

        const metrics = await app.request('GET', '/metrics');
        expect(metrics.text).toMatch(/webhook_deliveries_total\{outcome="given_up"\} [1-9]/);
        expect(metrics.text).toMatch(/webhook_deliveries_total\{outcome="failed"\} [1-9]/);
        expect(metrics.text).toMatch(/webhook_deliveries_total\{outcome="delivered"\} [1-9]/);
        expect(metrics.text).toContain('webhook_oldest_pending_seconds');
      });

      it('deletes events settled before the retention cutoff, never one an endpoint still waits for', async () => {
        const { id } = await subscribed(['user.created']);
        const dataSource = app.app.get(DataSource);
        const longAgo = new Date(Date.now() - 40 * 86_400_000);
        const insertEvent = async () =>
          String(
            (
              await dataSource
                .createQueryBuilder()
                .insert()
                .into(WebhookEvent)
                .values({
                  type: 'user.created',
                  at: longAgo,
                  userId: null,
                  email: 'old@example.com',
                  details: {},
                  dispatched: true,
                })
                .execute()
            ).identifiers[0].id,
          );
        const settled = await insertEvent();
        const waiting = await insertEvent();
        await dataSource
          .createQueryBuilder()
          .insert()
          .into(WebhookDelivery)
          .values({
            messageId: 'msg_waiting',
            eventId: waiting,
            endpointId: id,
            attempts: 3,
            nextAttemptAt: new Date(Date.now() + 86_400_000),
            deliveredAt: null,
          })
          .execute();
        const recent = await dataSource.getRepository(WebhookEvent).count();

        const deleted = await app.app
          .get(WebhooksRepository)
          .deleteSettledBefore(new Date(Date.now() - 30 * 86_400_000), 1000);
        expect(deleted).toBe(1);
        const left = await dataSource.getRepository(WebhookEvent).findBy({ id: In([settled, waiting]) });
        expect(left.map((event) => String(event.id))).toEqual([waiting]);
        expect(await dataSource.getRepository(WebhookEvent).count()).toBe(recent - 1);
      });

      it('writes the event with the change: a sign-in that fails writes none', async () => {
        const dataSource = app.app.get(DataSource);
        const count = async () =>
          Number((await dataSource.query(`SELECT COUNT(*) AS n FROM webhook_events`))[0].n as string);
        const before = await count();
        const { sessionId } = await requestCode(app, uniqueEmail());
        await app.request('POST', '/api/v1/auth/otp/verify', { json: { sessionId, code: 'abcdef' } });
        expect(await count()).toBe(before);
      });
    });

    describe('without WEBHOOK_ALLOW_PRIVATE', () => {
      let guarded: TestApp;
      let guardedAdmin: string;

      beforeAll(async () => {
        guarded = await startTestApp({
          backend,
          env: { ADMIN_EMAILS: ADMIN, WEBHOOK_POLL_MS: '50', WEBHOOK_RETRY_DELAYS: '100ms' },
        });
        guardedAdmin = (await signIn(guarded, ADMIN)).accessToken;
      });
      afterAll(() => guarded?.close());

      it.each([
        'http://127.0.0.1:8080/hooks',
        'http://localhost:8080/hooks',
        'http://[::1]/hooks',
        'http://169.254.169.254/latest/meta-data/',
        'http://10.0.0.7/hooks',
        'http://[::ffff:127.0.0.1]/hooks',
      ])('refuses to register %s', async (url) => {
        const response = await guarded.request('POST', WEBHOOKS, {
          json: { url, events: ['user.created'] },
          headers: bearer(guardedAdmin),
        });
        expect(response.status).toBe(400);
        expect(response.body.code).toBe('validation_failed');
        expect(response.body.errors[0].field).toBe('url');
      });

      it('checks the resolved address again at delivery, and does not connect to a forbidden one', async () => {
        const receiver = await newReceiver();
        // As if the name had resolved to a public address at registration and to loopback since (DNS rebinding).
        const id = randomUUID();
        await guarded.app
          .get(DataSource)
          .createQueryBuilder()
          .insert()
          .into(WebhookEndpoint)
          .values({
            id,
            url: receiver.url.replace('127.0.0.1', 'localhost'),
            events: ['user.created'],
            secretSealed: guarded.app.get(Secrets).seal('webhook-secret', newWebhookSecret()),
            createdAt: new Date(Date.now() - 1000),
          })
          .execute();
        await signIn(guarded);
        const history = async () =>
          (await guarded.request('GET', `${WEBHOOKS}/${id}/deliveries`, { headers: bearer(guardedAdmin) })).body
            .items as { status: number | null; error: string | null; nextAttemptAt: string | null }[];
        await waitUntil(async () => (await history()).length === 2, 'both attempts refused');
        expect((await history()).map(({ status, error }) => [status, error])).toEqual([
          [null, 'address not allowed'],
          [null, 'address not allowed'],
        ]);
        expect(receiver.received).toEqual([]);
      });
    });

    describe('with the default schedule compressed a thousandfold', () => {
      /** 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, as milliseconds instead of seconds. */
      const COMPRESSED = '5ms,300ms,1800ms,7200ms,18000ms,36000ms,36000ms';
      let compressed: TestApp;

      beforeAll(async () => {
        compressed = await startTestApp({
          backend,
          env: {
            ADMIN_EMAILS: ADMIN,
            WEBHOOK_ALLOW_PRIVATE: 'true',
            WEBHOOK_POLL_MS: '20',
            WEBHOOK_RETRY_DELAYS: COMPRESSED,
          },
        });
      });
      afterAll(() => compressed?.close());

      it('delivers to a receiver that was down for an hour, once it is back', async () => {
        const compressedAdmin = (await signIn(compressed, ADMIN)).accessToken;
        const down = await newReceiver();
        const port = Number(new URL(down.url).port);
        await down.stop();
        const created = await compressed.request('POST', WEBHOOKS, {
          json: { url: down.url, events: ['user.created'] },
          headers: bearer(compressedAdmin),
        });
        expect(created.status).toBe(201);
        const history = async () =>
          (
            await compressed.request('GET', `${WEBHOOKS}/${created.body.id}/deliveries`, {
              headers: bearer(compressedAdmin),
            })
          ).body.items as { attempt: number; status: number | null; error: string | null }[];
        const { user } = await signIn(compressed);
        // Down for an hour (3.6 s): the attempts at 0, 5 s, 5 min and 35 min are refused.
        await new Promise((resolve) => setTimeout(resolve, 3600));
        const back = await new WebhookReceiver().start(port);
        receivers.push(back);
        await waitUntil(async () => (await history())[0]?.status === 204, 'delivered once back', 15_000);
        expect(back.received).toHaveLength(1);
        const [event] = back.verified(created.body.secret as string);
        expect(event).toEqual(
          expect.objectContaining({ type: 'user.created', data: expect.objectContaining({ userId: user.id }) }),
        );
        const attempts = await history();
        expect(attempts[0]).toEqual(expect.objectContaining({ attempt: 5, status: 204 }));
        expect(attempts.slice(1).map(({ status, error }) => [status, error])).toEqual(
          Array.from({ length: 4 }, () => [null, 'connection refused']),
        );
      }, 30_000);
    });
  });
}
