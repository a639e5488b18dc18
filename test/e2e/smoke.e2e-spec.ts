import { describeWith } from '../support/services';
import { BACKENDS, startTestApp, TestApp } from '../support/test-app';
import { signIn } from '../support/factories';

for (const { backend, needs } of BACKENDS) {
  describeWith(needs, `smoke on ${backend}`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({ backend });
    });
    afterAll(() => app?.close());

    it('signs in', async () => {
      const session = await signIn(app);
      const me = await app.request('GET', '/api/v1/users/me', { headers: { authorization: `Bearer ${session.accessToken}` } });
      expect(me.status).toBe(200);
    });
  });
}
