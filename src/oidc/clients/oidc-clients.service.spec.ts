import { generateKeyPairSync } from 'node:crypto';
import { AuditEvent } from '../../audit/audit-event.entity';
import { AuditService } from '../../audit/audit.service';
import { loadSigningKeys, SigningKeys } from '../../auth/signing-keys';
import { Secrets } from '../../common/secrets';
import { FakeClock } from '../../../test/support/fake-clock';
import { migratedSqlite, unitConfig } from '../../../test/support/unit-fixtures';
import { CreateOidcClientDto } from './dto/create-oidc-client.dto';
import { InvalidClientRegistration } from './invalid-client-registration';
import { OidcClient } from './oidc-client.entity';
import { OidcClientsRepository } from './oidc-clients.repository';
import { OidcClientsService } from './oidc-clients.service';

const RSA_KEY = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const APP: CreateOidcClientDto = { name: 'Billing', redirect_uris: ['https://billing.example.com/cb'] };

async function buildSut(env: Record<string, string> = {}) {
  const config = unitConfig({ MAIL_SERVER: '127.0.0.1', ...env });
  const { dataSource } = await migratedSqlite();
  const clock = new FakeClock();
  const secrets = new Secrets(config.secretKey);
  const keys = loadSigningKeys(config.jwt);
  const sut = new OidcClientsService(
    new OidcClientsRepository(dataSource, new AuditService(dataSource, clock)),
    secrets,
    new SigningKeys(keys.all, keys.rsa),
    config,
    clock,
  );
  const rows = () => dataSource.manager.find(OidcClient);
  const events = () => dataSource.manager.find(AuditEvent, { order: { id: 'ASC' } });
  return { sut, dataSource, clock, secrets, rows, events };
}

/** The problems a registration is refused with, as the admin API lists them. */
async function refusal(promise: Promise<unknown>): Promise<{ field: string; message: string }[]> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof InvalidClientRegistration) {
      expect(error.code).toBe('validation_failed');
      return error.options.extras!.errors as { field: string; message: string }[];
    }
    throw error;
  }
  throw new Error('the registration was accepted');
}

describe('OidcClientsService', () => {
  let t: Awaited<ReturnType<typeof buildSut>> | undefined;
  afterEach(async () => {
    if (t?.dataSource.isInitialized) await t.dataSource.destroy();
    t = undefined;
  });

  it('registers a confidential client with a fresh secret, stored only sealed, and gives the provider its metadata', async () => {
    t = await buildSut();
    const registered = await t.sut.register(
      { ...APP, post_logout_redirect_uris: ['https://billing.example.com/'] },
      {},
    );
    expect(registered).toEqual({
      client_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      name: 'Billing',
      redirect_uris: ['https://billing.example.com/cb'],
      post_logout_redirect_uris: ['https://billing.example.com/'],
      public: false,
      id_token_signed_response_alg: 'ES256',
      created_at: expect.any(String),
      client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const [row] = await t.rows();
    expect(row.secretSealed).not.toContain(registered.client_secret);
    expect(t.secrets.open('oidc-client-secret', row.secretSealed!)).toBe(registered.client_secret);

    expect(await t.sut.providerMetadata(registered.client_id)).toEqual({
      client_id: registered.client_id,
      client_name: 'Billing',
      application_type: 'web',
      client_secret: registered.client_secret,
      redirect_uris: ['https://billing.example.com/cb'],
      post_logout_redirect_uris: ['https://billing.example.com/'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    });
  });

  it('gives every client its own id and secret', async () => {
    t = await buildSut();
    const [first, second] = [await t.sut.register(APP, {}), await t.sut.register(APP, {})];
    expect(first.client_id).not.toBe(second.client_id);
    expect(first.client_secret).not.toBe(second.client_secret);
  });

  it('registers a public client without a secret, authenticating with none', async () => {
    t = await buildSut();
    const registered = await t.sut.register({ ...APP, public: true, redirect_uris: ['com.example.app:/cb'] }, {});
    expect(registered).toMatchObject({ public: true });
    expect(registered).not.toHaveProperty('client_secret');
    expect((await t.rows())[0].secretSealed).toBeNull();
    const metadata = await t.sut.providerMetadata(registered.client_id);
    expect(metadata).toMatchObject({ token_endpoint_auth_method: 'none', application_type: 'native' });
    expect(metadata).not.toHaveProperty('client_secret');
  });

  it('keeps RS256 when asked for it', async () => {
    t = await buildSut();
    const registered = await t.sut.register({ ...APP, id_token_signed_response_alg: 'RS256' }, {});
    expect(await t.sut.providerMetadata(registered.client_id)).toMatchObject({ id_token_signed_response_alg: 'RS256' });
  });

  it('trims the name and drops repeated URIs', async () => {
    t = await buildSut();
    const registered = await t.sut.register(
      { name: '  Billing ', redirect_uris: ['https://a.example/cb', 'https://b.example/cb', 'https://a.example/cb'] },
      {},
    );
    expect(registered).toMatchObject({
      name: 'Billing',
      redirect_uris: ['https://a.example/cb', 'https://b.example/cb'],
    });
  });

  it.each([
    ['an empty name', { name: ' ' }, 'name', 'name must be 1 to 100 characters'],
    ['a name over 100 characters', { name: 'n'.repeat(101) }, 'name', 'name must be 1 to 100 characters'],
    ['a name with a control character', { name: 'Bil\u0007ling' }, 'name', 'name must not contain control characters'],
    ['no redirect URI', { redirect_uris: [] }, 'redirect_uris', 'redirect_uris must list 1 to 10 URIs'],
    [
      'eleven redirect URIs',
      { redirect_uris: Array.from({ length: 11 }, (_, i) => `https://app.example/${i}`) },
      'redirect_uris',
      'redirect_uris must list 1 to 10 URIs',
    ],
    [
      'eleven post-logout URIs',
      { post_logout_redirect_uris: Array.from({ length: 11 }, (_, i) => `https://app.example/${i}`) },
      'post_logout_redirect_uris',
      'post_logout_redirect_uris must list at most 10 URIs',
    ],
    [
      'a bad second redirect URI',
      { redirect_uris: ['https://app.example/cb', 'http://app.example/cb'] },
      'redirect_uris[1]',
      'redirect_uris[1] must use https (http only on localhost, 127.0.0.1 or [::1])',
    ],
    [
      'a bad post-logout URI',
      { post_logout_redirect_uris: ['https://app.example/#bye'] },
      'post_logout_redirect_uris[0]',
      'post_logout_redirect_uris[0] must not contain a fragment (#)',
    ],
  ])('refuses %s, writing nothing', async (_what, change, field, message) => {
    t = await buildSut();
    expect(await refusal(t.sut.register({ ...APP, ...change }, {}))).toEqual([{ field, message }]);
    expect(await t.rows()).toEqual([]);
    expect(await t.events()).toEqual([]);
  });

  it('names every problem of a registration at once', async () => {
    t = await buildSut();
    const errors = await refusal(t.sut.register({ name: '', redirect_uris: ['/cb', 'ftp://x/cb'] }, {}));
    expect(errors.map((error) => error.field)).toEqual(['name', 'redirect_uris[0]', 'redirect_uris[1]']);
  });

  it('accepts http on any host in development only', async () => {
    const uri = { redirect_uris: ['http://billing.internal:8080/cb'] };
    t = await buildSut({ NODE_ENV: 'development', JWT_KEYS_DIR: '/nonexistent' });
    expect((await t.sut.register({ ...APP, ...uri }, {})).redirect_uris).toEqual(uri.redirect_uris);
    await t.dataSource.destroy();
    t = await buildSut();
    expect(await refusal(t.sut.register({ ...APP, ...uri }, {}))).toHaveLength(1);
  });

  describe('in production', () => {
    const production = { NODE_ENV: 'production' };

    it('refuses an RS256 client when no RSA key is configured, naming JWT_RSA_PRIVATE_KEY', async () => {
      t = await buildSut(production);
      const [error] = await refusal(t.sut.register({ ...APP, id_token_signed_response_alg: 'RS256' }, {}));
      expect(error).toEqual({
        field: 'id_token_signed_response_alg',
        message: expect.stringContaining('JWT_RSA_PRIVATE_KEY'),
      });
      expect(await t.rows()).toEqual([]);
      expect(await t.sut.register(APP, {})).toMatchObject({ id_token_signed_response_alg: 'ES256' });
    });

    it('registers an RS256 client when JWT_RSA_PRIVATE_KEY is set', async () => {
      t = await buildSut({ ...production, JWT_RSA_PRIVATE_KEY: RSA_KEY });
      expect(await t.sut.register({ ...APP, id_token_signed_response_alg: 'RS256' }, {})).toMatchObject({
        id_token_signed_response_alg: 'RS256',
      });
    });
  });

  it('removes a client and audits both changes with its id and name, never its secret', async () => {
    t = await buildSut();
    const registered = await t.sut.register(APP, {});
    expect(await t.sut.remove(registered.client_id, {})).toMatchObject({ client_id: registered.client_id });
    expect(await t.sut.providerMetadata(registered.client_id)).toBeUndefined();
    expect(await t.sut.list()).toEqual([]);
    const events = await t.events();
    expect(events.map(({ type, details }) => ({ type, details }))).toEqual([
      { type: 'client.created', details: { clientId: registered.client_id, name: 'Billing', actor: 'cli' } },
      { type: 'client.removed', details: { clientId: registered.client_id, name: 'Billing', actor: 'cli' } },
    ]);
    expect(JSON.stringify(events)).not.toContain(registered.client_secret);
  });

  it.each([
    ['an unknown id', '0123456789abcdef0123456789abcdef'],
    ['a malformed id', 'not-an-id\u0000'],
  ])('finds and removes nothing for %s', async (_what, clientId) => {
    t = await buildSut();
    await t.sut.register(APP, {});
    expect(await t.sut.providerMetadata(clientId)).toBeUndefined();
    expect(await t.sut.remove(clientId, {})).toBeNull();
    expect(await t.rows()).toHaveLength(1);
    expect((await t.events()).map((event) => event.type)).toEqual(['client.created']);
  });

  it('lists the clients oldest first, without secrets', async () => {
    t = await buildSut();
    const first = await t.sut.register({ ...APP, name: 'First' }, {});
    t.clock.advance(1);
    const second = await t.sut.register({ ...APP, name: 'Second', public: true }, {});
    const listed = await t.sut.list();
    expect(listed.map((client) => client.client_id)).toEqual([first.client_id, second.client_id]);
    for (const client of listed) expect(client).not.toHaveProperty('client_secret');
    expect(JSON.stringify(listed)).not.toContain(first.client_secret);
  });
});
