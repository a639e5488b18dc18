import { DataSource } from 'typeorm';
import { OidcClientsService } from '../../src/oidc/clients/oidc-clients.service';
import { mintServiceToken, runCli } from '../support/cli';
import { signIn } from '../support/factories';
import { describeWith } from '../support/services';
import { BACKENDS, HttpResult, startTestApp, TestApp } from '../support/test-app';

/** The registry of OpenID Connect clients: the admin API and the operator's command line. */

const ADMIN = 'clients-admin@example.com';
const CLIENTS = '/api/v1/admin/clients';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const BILLING = { name: 'Billing', redirect_uris: ['https://billing.example.com/auth/callback'] };

interface StoredClient {
  client_id: string;
  name: string;
  is_public: boolean | number;
  secret_sealed: string | null;
  redirect_uris: unknown;
}

for (const { backend, needs } of BACKENDS) {
  describeWith(needs, `OpenID Connect clients on ${backend}`, () => {
    let app: TestApp;
    let admin: string;
    let user: string;
    let service: string;

    const register = (body: unknown, token = admin) =>
      app.request('POST', CLIENTS, { json: body, headers: bearer(token) });
    const list = (token = admin) => app.request('GET', CLIENTS, { headers: bearer(token) });
    const remove = (clientId: string, token = admin) =>
      app.request('DELETE', `${CLIENTS}/${clientId}`, { headers: bearer(token) });
    const rows = (): Promise<StoredClient[]> => app.app.get(DataSource).query('SELECT * FROM oidc_clients');
    const auditOf = async (type: string) =>
      (await app.request('GET', `/api/v1/admin/audit?type=${type}&limit=500`, { headers: bearer(admin) })).body
        .items as { details: Record<string, unknown>; email: string | null; userId: string | null }[];

    beforeAll(async () => {
      app = await startTestApp({ backend, env: { ADMIN_EMAILS: ADMIN } });
      admin = (await signIn(app, ADMIN)).accessToken;
      user = (await signIn(app)).accessToken;
      service = await mintServiceToken(app, 'audit:read users:read tokens:introspect');
    });
    afterAll(() => app?.close());

    describe('through the admin API', () => {
      it('registers a confidential client, showing its secret once and storing it only sealed', async () => {
        const created = await register({ ...BILLING, post_logout_redirect_uris: ['https://billing.example.com/'] });
        expect(created.status).toBe(201);
        expect(created.body).toEqual({
          client_id: expect.stringMatching(/^[0-9a-f]{32}$/),
          name: 'Billing',
          redirect_uris: BILLING.redirect_uris,
          post_logout_redirect_uris: ['https://billing.example.com/'],
          public: false,
          id_token_signed_response_alg: 'ES256',
          created_at: expect.any(String),
          client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        });
        const { client_id: clientId, client_secret: secret } = created.body as {
          client_id: string;
          client_secret: string;
        };

        const listed = await list();
        expect(listed.status).toBe(200);
        const entry = (listed.body.items as Record<string, unknown>[]).find((item) => item.client_id === clientId);
        expect(entry).toEqual({ ...created.body, client_secret: undefined });
        expect(entry).not.toHaveProperty('client_secret');
        expect(listed.text).not.toContain(secret);

        const [row] = (await rows()).filter((stored) => stored.client_id === clientId);
        expect(row.secret_sealed).toEqual(expect.any(String));
        expect(JSON.stringify(row)).not.toContain(secret);
        // Sealed, not hashed: the provider gets the plaintext back to compare.
        expect(await app.app.get(OidcClientsService).providerMetadata(clientId)).toMatchObject({
          client_id: clientId,
          client_secret: secret,
          redirect_uris: BILLING.redirect_uris,
        });
      });

      it('registers a public client without a secret, and keeps the options asked for', async () => {
        const created = await register({
          name: 'Mobile',
          redirect_uris: ['com.example.mobile:/callback', 'http://127.0.0.1:8765/callback'],
          public: true,
        });
        expect(created.status).toBe(201);
        expect(created.body).toMatchObject({ public: true });
        expect(created.body).not.toHaveProperty('client_secret');
        const [row] = (await rows()).filter((stored) => stored.client_id === created.body.client_id);
        expect(row.secret_sealed).toBeNull();

        const rs256 = await register({ ...BILLING, id_token_signed_response_alg: 'RS256' });
        expect(rs256.status).toBe(201);
        expect(rs256.body).toMatchObject({
          id_token_signed_response_alg: 'RS256',
          client_secret: expect.any(String),
        });
      });

      it('removes a client: 204, then gone from the list and from the provider, and 404 a second time', async () => {
        const { client_id: clientId } = (await register(BILLING)).body as { client_id: string };
        const removed = await remove(clientId);
        expect(removed.status).toBe(204);
        expect(removed.text).toBe('');
        expect((await list()).body.items.map((item: { client_id: string }) => item.client_id)).not.toContain(clientId);
        expect(await app.app.get(OidcClientsService).providerMetadata(clientId)).toBeUndefined();
        expectProblem(await remove(clientId), 404, 'not_found');
      });

      it.each([
        ['an unknown client id', '0123456789abcdef0123456789abcdef'],
        ['a malformed client id', 'not-a-client'],
      ])('answers 404 not_found to the removal of %s', async (_what, clientId) => {
        expectProblem(await remove(clientId), 404, 'not_found');
      });

      it('audits registrations and removals with the client id, name and admin, never the secret', async () => {
        const created = await register({ ...BILLING, name: 'Audited' });
        const { client_id: clientId, client_secret: secret } = created.body as {
          client_id: string;
          client_secret: string;
        };
        await remove(clientId);
        for (const type of ['client.created', 'client.removed']) {
          const events = (await auditOf(type)).filter((event) => event.details.clientId === clientId);
          expect(events).toEqual([
            expect.objectContaining({
              email: ADMIN,
              userId: expect.any(String),
              details: { clientId, name: 'Audited', actor: expect.any(String) },
            }),
          ]);
          expect(events[0].details.actor).toBe(events[0].userId);
          expect(JSON.stringify(events)).not.toContain(secret);
        }
        const everything = await app.request('GET', '/api/v1/admin/audit/export', { headers: bearer(admin) });
        expect(everything.text).not.toContain(secret);
      });
    });

    describe('refusing bad registrations', () => {
      const http = 'http://billing.example.com/cb';
      it.each<[string, Record<string, unknown>, string]>([
        ['no name', { name: undefined }, 'name'],
        ['a name that is not a string', { name: 42 }, 'name'],
        ['an empty name', { name: '   ' }, 'name'],
        ['a name over 100 characters', { name: 'n'.repeat(101) }, 'name'],
        ['a name with a control character', { name: 'Bill\ning' }, 'name'],
        ['no redirect_uris', { redirect_uris: undefined }, 'redirect_uris'],
        ['redirect_uris that is a string', { redirect_uris: 'https://billing.example.com/cb' }, 'redirect_uris'],
        ['an empty redirect_uris', { redirect_uris: [] }, 'redirect_uris'],
        [
          'eleven redirect URIs',
          { redirect_uris: Array.from({ length: 11 }, (_, i) => `https://billing.example.com/${i}`) },
          'redirect_uris',
        ],
        ['a redirect URI that is not a string', { redirect_uris: [42] }, 'redirect_uris'],
        [
          'a redirect URI over 2000 characters',
          { redirect_uris: [`https://billing.example.com/${'a'.repeat(2000)}`] },
          'redirect_uris[0]',
        ],
        ['a relative redirect URI', { redirect_uris: ['/callback'] }, 'redirect_uris[0]'],
        ['a redirect URI with a fragment', { redirect_uris: ['https://billing.example.com/cb#x'] }, 'redirect_uris[0]'],
        ['http on a public host', { redirect_uris: ['https://billing.example.com/cb', http] }, 'redirect_uris[1]'],
        ['a javascript: URI', { redirect_uris: ['javascript:alert(1)'] }, 'redirect_uris[0]'],
        ['a scheme without a dot', { redirect_uris: ['billing://callback'] }, 'redirect_uris[0]'],
        ['a bad post-logout URI', { post_logout_redirect_uris: [http] }, 'post_logout_redirect_uris[0]'],
        [
          'eleven post-logout URIs',
          { post_logout_redirect_uris: Array.from({ length: 11 }, (_, i) => `https://billing.example.com/${i}`) },
          'post_logout_redirect_uris',
        ],
        ['public that is not a boolean', { public: 'yes' }, 'public'],
        [
          'an ID token algorithm of another kind',
          { id_token_signed_response_alg: 'HS256' },
          'id_token_signed_response_alg',
        ],
        [
          'a token endpoint auth method (a secret is accepted either way)',
          { token_endpoint_auth_method: 'client_secret_post' },
          'token_endpoint_auth_method',
        ],
        ['a secret of its own choosing', { client_secret: 'chosen-by-the-caller' }, 'client_secret'],
        ['a client id of its own choosing', { client_id: 'mine' }, 'client_id'],
      ])('refuses %s with 400 validation_failed, writing nothing', async (_what, change, field) => {
        const [rowsBefore, eventsBefore] = [(await rows()).length, (await auditOf('client.created')).length];
        const response = await register({ ...BILLING, ...change });
        expectProblem(response, 400, 'validation_failed');
        expect(response.body.errors).toEqual(
          expect.arrayContaining([expect.objectContaining({ field, message: expect.stringContaining(field) })]),
        );
        expect(response.body.detail).toEqual(expect.any(String));
        expect((await rows()).length).toBe(rowsBefore);
        expect((await auditOf('client.created')).length).toBe(eventsBefore);
      });

      it('says what is wrong with a URI in the detail', async () => {
        const response = await register({ ...BILLING, redirect_uris: ['http://billing.example.com/cb'] });
        expect(response.body.detail).toBe(
          'The client cannot be registered: redirect_uris[0] must use https (http only on localhost, 127.0.0.1 or [::1]).',
        );
      });

      it('refuses a body that is not JSON with 415', async () => {
        const response = await app.request('POST', CLIENTS, {
          body: 'name=Billing',
          headers: { ...bearer(admin), 'content-type': 'application/x-www-form-urlencoded' },
        });
        expectProblem(response, 415, 'unsupported_media_type');
      });
    });

    describe('access', () => {
      let existing: string;
      beforeAll(async () => {
        existing = (await register(BILLING)).body.client_id as string;
      });

      const requests = (token?: string) => {
        const headers = token ? bearer(token) : undefined;
        return [
          app.request('POST', CLIENTS, { json: BILLING, headers }),
          app.request('GET', CLIENTS, { headers }),
          app.request('DELETE', `${CLIENTS}/${existing}`, { headers }),
        ];
      };

      it.each([
        ['no token', 401, 'unauthorized', () => undefined],
        ['a user who is not an admin', 403, 'forbidden', () => user],
        ['a service token, whatever its scopes', 403, 'forbidden', () => service],
      ])('refuses %s on every route', async (_who, status, code, token) => {
        const before = (await rows()).length;
        for (const response of await Promise.all(requests(token()))) expectProblem(response, status, code);
        expect((await rows()).length).toBe(before);
        expect((await rows()).map((row) => row.client_id)).toContain(existing);
      });
    });

    describe('through the command line', () => {
      it('adds, lists and removes a client: the secret printed once, never listed', async () => {
        const added = await runCli(
          app,
          'client',
          'add',
          '--name',
          'Reports',
          '--redirect-uri',
          'https://reports.example.com/cb',
          '--redirect-uri',
          'http://localhost:4000/cb',
          '--post-logout-redirect-uri',
          'https://reports.example.com/',
          '--id-token-alg',
          'RS256',
        );
        expect(added).toMatchObject({ status: 0, stderr: '' });
        const printed = JSON.parse(added.stdout) as { client_id: string; client_secret: string };
        expect(Object.keys(printed).sort()).toEqual(['client_id', 'client_secret']);
        expect(printed.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);

        const listed = await runCli(app, 'client', 'list');
        expect(listed).toMatchObject({ status: 0, stderr: '' });
        expect(listed.stdout).not.toContain(printed.client_secret);
        const clients = JSON.parse(listed.stdout) as Record<string, unknown>[];
        expect(clients.find((client) => client.client_id === printed.client_id)).toEqual({
          client_id: printed.client_id,
          name: 'Reports',
          redirect_uris: ['https://reports.example.com/cb', 'http://localhost:4000/cb'],
          post_logout_redirect_uris: ['https://reports.example.com/'],
          public: false,
          id_token_signed_response_alg: 'RS256',
          created_at: expect.any(String),
        });
        // The API sees what the command registered, and the provider gets the secret printed.
        expect((await list()).body.items.map((item: { client_id: string }) => item.client_id)).toContain(
          printed.client_id,
        );
        expect(await app.app.get(OidcClientsService).providerMetadata(printed.client_id)).toMatchObject({
          client_secret: printed.client_secret,
        });
        const [row] = (await rows()).filter((stored) => stored.client_id === printed.client_id);
        expect(JSON.stringify(row)).not.toContain(printed.client_secret);

        const removed = await runCli(app, 'client', 'remove', printed.client_id);
        expect(removed).toMatchObject({
          status: 0,
          stderr: '',
          stdout: `removed client ${printed.client_id} ("Reports")`,
        });
        expectProblem(await remove(printed.client_id), 404, 'not_found');

        for (const type of ['client.created', 'client.removed']) {
          const events = (await auditOf(type)).filter((event) => event.details.clientId === printed.client_id);
          expect(events).toEqual([
            expect.objectContaining({
              userId: null,
              details: { clientId: printed.client_id, name: 'Reports', actor: 'cli' },
            }),
          ]);
        }
      });

      it('adds a --public client: no secret printed or stored', async () => {
        const added = await runCli(
          app,
          'client',
          'add',
          '--public',
          '--name',
          'Phone',
          '--redirect-uri',
          'com.example.phone:/cb',
        );
        expect(added).toMatchObject({ status: 0, stderr: '' });
        const printed = JSON.parse(added.stdout) as Record<string, unknown>;
        expect(Object.keys(printed)).toEqual(['client_id']);
        const listed = JSON.parse((await runCli(app, 'client', 'list')).stdout) as Record<string, unknown>[];
        expect(listed.find((client) => client.client_id === printed.client_id)).toMatchObject({
          public: true,
        });
        const [row] = (await rows()).filter((stored) => stored.client_id === printed.client_id);
        expect(row.secret_sealed).toBeNull();
      });

      const ADD = ['client', 'add', '--name', 'Cli'];
      // The refusals of the arguments alone are in cli.e2e-spec.ts; these need the registry.
      it.each([
        [
          'bad redirect URIs',
          [
            ...ADD,
            '--redirect-uri',
            'https://a.example/cb',
            '--redirect-uri',
            'http://a.example/cb',
            '--redirect-uri',
            'https://a.example/#x',
          ],
          'cannot register the client: --redirect-uri #2 must use https (http only on localhost, 127.0.0.1 or [::1]); --redirect-uri #3 must not contain a fragment (#)',
        ],
        [
          'a bad post-logout URI and a blank name',
          [
            'client',
            'add',
            '--name',
            ' ',
            '--redirect-uri',
            'https://a.example/cb',
            '--post-logout-redirect-uri',
            'javascript:x',
          ],
          'cannot register the client: --name must be 1 to 100 characters; --post-logout-redirect-uri #1 must use https, http on localhost, or a private-use scheme with a dot (com.example.app:/callback)',
        ],
        ['remove with an unknown id', ['client', 'remove', 'f'.repeat(32)], `no client has id ${'f'.repeat(32)}`],
      ])('refuses %s with exit 2 and one line saying why, writing nothing', async (_what, args, reason) => {
        const before = (await rows()).length;
        const result = await runCli(app, ...args);
        expect(result.status).toBe(2);
        expect(result.stdout).toBe('');
        const [first, ...rest] = result.stderr.split('\n');
        expect(first).toBe(reason);
        expect(rest).toEqual([]);
        expect((await rows()).length).toBe(before);
      });
    });
  });
}

describe('OpenID Connect clients in production without an RSA key', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp({ backend: 'sqlite-memory', env: { NODE_ENV: 'production', ADMIN_EMAILS: ADMIN } });
    admin = (await signIn(app, ADMIN)).accessToken;
  });
  afterAll(() => app?.close());

  it('refuses an RS256 client with 400 naming JWT_RSA_PRIVATE_KEY, and still registers ES256 ones', async () => {
    const refused = await app.request('POST', CLIENTS, {
      json: { ...BILLING, id_token_signed_response_alg: 'RS256' },
      headers: bearer(admin),
    });
    expectProblem(refused, 400, 'validation_failed');
    expect(refused.body.detail).toContain('JWT_RSA_PRIVATE_KEY');
    expect(refused.body.errors).toEqual([
      { field: 'id_token_signed_response_alg', message: expect.stringContaining('JWT_RSA_PRIVATE_KEY') },
    ]);
    const listed = await app.request('GET', CLIENTS, { headers: bearer(admin) });
    expect(listed.body).toEqual({ items: [] });

    const cli = await runCli(
      app,
      'client',
      'add',
      '--name',
      'X',
      '--redirect-uri',
      'https://x.example/cb',
      '--id-token-alg',
      'RS256',
    );
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(
      /^cannot register the client: --id-token-alg RS256 needs an RSA signing key .*JWT_RSA_PRIVATE_KEY$/,
    );

    const es256 = await app.request('POST', CLIENTS, { json: BILLING, headers: bearer(admin) });
    expect(es256.status).toBe(201);
  });
});

function expectProblem(response: HttpResult, status: number, code: string): void {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status, code });
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
}
