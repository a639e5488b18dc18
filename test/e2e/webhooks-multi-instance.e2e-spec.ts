import { AppProcess, Deployment, freePort, startDeployment, waitUntil } from '../support/app-process';
import { signIn } from '../support/factories';
import { describeWith } from '../support/services';
import { WebhookReceiver } from '../support/webhook-receiver';

const ADMIN = 'hooks-ops@example.com';
const USERS = 8;
const TIMEOUT_MS = 1000;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * Two compiled instances poll the same outbox: each event reaches the receiver once, whichever
 * instance the change happened on; a crash mid-delivery and a restart lose nothing.
 */
describeWith(['postgres', 'redis'], 'webhooks from two compiled instances', () => {
  let deployment: Deployment;
  let receiver: WebhookReceiver;
  let secret: string;
  const test = (name: string, body: () => Promise<void>, timeout?: number) =>
    it(name, () => deployment.explained(body)(), timeout);

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    deployment = await startDeployment(2, {
      ADMIN_EMAILS: ADMIN,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_POLL_MS: '20',
      WEBHOOK_RETRY_DELAYS: '200ms,200ms,200ms,200ms,200ms',
      WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      REDIS_FALLBACK: 'fail',
    });
    const [a] = deployment.instances;
    const admin = (await signIn(a, ADMIN)).accessToken;
    const created = await a.request('POST', '/api/v1/admin/webhooks', {
      json: { url: receiver.url, events: ['user.created', 'session.created'] },
      headers: bearer(admin),
    });
    expect(created.status).toBe(201);
    secret = created.body.secret as string;
  }, 60_000);
  afterAll(async () => {
    await deployment?.stop();
    await receiver?.stop();
  }, 30_000);

  test('deliver each event exactly once, whichever instance wrote it', async () => {
    const users = await Promise.all(Array.from({ length: USERS }, (_, i) => signIn(deployment.instances[i % 2])));
    await waitUntil(async () => receiver.received.length >= USERS * 2, 'every event delivered');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const events = receiver.verified(secret);
    expect(events).toHaveLength(USERS * 2);
    expect(new Set(events.map((event) => event.id)).size).toBe(USERS * 2);
    for (const { user } of users)
      expect(
        events
          .filter((event) => event.data.userId === user.id)
          .map((event) => event.type)
          .sort(),
      ).toEqual(['session.created', 'user.created']);
  });

  test('lose nothing when the instances crash mid-delivery: a restarted one delivers it, with the same webhook-id', async () => {
    const [a, b] = deployment.instances;
    receiver.received.length = 0;
    receiver.answerNext('hang', 'hang');
    const { user } = await signIn(a);
    await waitUntil(async () => receiver.received.length >= 1, 'an attempt under way');
    await Promise.all([a.kill(), b.kill()]);
    const restarted = await AppProcess.start({
      name: 'C',
      env: deployment.env,
      port: await freePort(),
      sink: deployment.sink,
    });
    deployment.instances.push(restarted);
    await waitUntil(
      async () => receiver.received.filter(({ status }) => status === 204).length >= 2,
      'delivered after the restart',
      20_000,
    );
    const events = receiver.verified(secret).filter((event) => event.data.userId === user.id);
    const ids = events.map((event) => event.id);
    // Two events, each under one webhook-id; the attempt cut short by the crash came again under its id.
    expect(new Set(ids).size).toBe(2);
    expect(ids.length).toBeGreaterThan(2);
    expect(new Set(events.map((event) => event.type))).toEqual(new Set(['user.created', 'session.created']));
  }, 60_000);
});
