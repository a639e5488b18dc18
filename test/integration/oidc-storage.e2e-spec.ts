import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Secrets } from '../../src/common/secrets';
import { createDataSource } from '../../src/database/data-source-options';
import { ENTITIES } from '../../src/entities';
import type { OidcAdapter, OidcAdapterClass, OidcAdapterPayload } from '../../src/oidc/storage/oidc-adapter';
import { OidcPayloadsRepository } from '../../src/oidc/storage/oidc-payloads.repository';
import { OidcStorage } from '../../src/oidc/storage/oidc-storage';
import { FakeClock } from '../support/fake-clock';
import { describeWith } from '../support/services';
import { createTestDatabase } from '../support/test-database';
import { migratedSqlite } from '../support/unit-fixtures';

/**
 * The storage oidc-provider is given, used as the library uses it (`new Adapter(model)`), on
 * both engines. On PostgreSQL the two instances are two data sources on one database, as two
 * processes of the service would be; in-memory SQLite has one process, so both are the same.
 */
const BACKENDS: {
  name: string;
  needs: 'postgres'[];
  open: () => Promise<{ dataSources: [DataSource, DataSource]; close: () => Promise<void> }>;
}[] = [
  {
    name: 'sqlite-memory',
    needs: [],
    open: async () => {
      const { dataSource } = await migratedSqlite();
      return { dataSources: [dataSource, dataSource], close: () => dataSource.destroy() };
    },
  },
  {
    name: 'postgres',
    needs: ['postgres'],
    open: async () => {
      const database = await createTestDatabase('oidc_storage');
      const dataSources: [DataSource, DataSource] = [
        createDataSource({ type: 'postgres', url: database.url }, ENTITIES),
        createDataSource({ type: 'postgres', url: database.url }, ENTITIES),
      ];
      await Promise.all(dataSources.map((dataSource) => dataSource.initialize()));
      await dataSources[0].runMigrations();
      return {
        dataSources,
        close: async () => {
          await Promise.all(dataSources.map((dataSource) => dataSource.destroy()));
          await database.drop();
        },
      };
    },
  },
];

/** Every model oidc-provider keeps but Client, which has its own table. */
const MODELS = [
  'Session',
  'Interaction',
  'AuthorizationCode',
  'AccessToken',
  'RefreshToken',
  'Grant',
  'ReplayDetection',
  'PushedAuthorizationRequest',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'ClientCredentials',
  'InitialAccessToken',
  'RegistrationAccessToken',
];
/** The models whose records carry the grant they belong to: revoking it deletes them. */
const GRANTED = ['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest'];

/** Like the library's ids and token values: 43 random url-safe characters. */
const randomId = () => randomBytes(32).toString('base64url');

/** A payload shaped like the library's for `model`, every value in it unique to this call. */
function payloadFor(model: string, extra: OidcAdapterPayload = {}): OidcAdapterPayload {
  return {
    kind: model,
    jti: randomId(),
    accountId: `account-${randomId()}`,
    clientId: `client-${randomId()}`,
    iat: 1_767_225_600,
    exp: 1_767_229_200,
    scope: `openid email ${randomId()}`,
    session: { uid: randomId(), cookie: randomId(), acr: `acr-${randomId()}` },
    params: { nonce: randomId(), redirect_uri: `https://rp.example/${randomId()}` },
    ...extra,
  };
}

for (const backend of BACKENDS) {
  describeWith(backend.needs, `OIDC storage contract: ${backend.name}`, () => {
    let dataSources: [DataSource, DataSource];
    let close: () => Promise<void>;
    let clock: FakeClock;
    let secretKey: Buffer;
    /** Two instances of the service: what one stores, the other finds. */
    let storages: [OidcStorage, OidcStorage];
    let onAlreadyConsumed: jest.Mock;
    let adapters: [OidcAdapterClass, OidcAdapterClass];

    const storageOn = (dataSource: DataSource, key = secretKey) =>
      new OidcStorage(new OidcPayloadsRepository(dataSource), new Secrets(key), clock);
    const adapter = (model: string, instance: 0 | 1 = 0): OidcAdapter => new adapters[instance](model);
    const rows = () => dataSources[0].query<Record<string, unknown>[]>('SELECT * FROM oidc_payloads');

    beforeAll(async () => {
      ({ dataSources, close } = await backend.open());
    });
    afterAll(() => close());

    beforeEach(async () => {
      await dataSources[0].query('DELETE FROM oidc_payloads');
      clock = new FakeClock();
      secretKey = randomBytes(32);
      storages = [storageOn(dataSources[0]), storageOn(dataSources[1])];
      onAlreadyConsumed = jest.fn();
      adapters = [storages[0].adapterClass(onAlreadyConsumed), storages[1].adapterClass(onAlreadyConsumed)];
    });

    it.each(MODELS)('stores a %s on one instance that the other finds as it was stored', async (model) => {
      const id = randomId();
      const payload = payloadFor(model, { grantId: randomId(), uid: randomId(), userCode: 'WDJB-MJHT' });
      await adapter(model, 0).upsert(id, payload, 600);

      expect(await adapter(model, 1).find(id)).toEqual(payload);
      expect(await adapter(model, 1).find(randomId())).toBeUndefined();
      const otherModel = model === 'Session' ? 'Interaction' : 'Session';
      expect(await adapter(otherModel, 1).find(id)).toBeUndefined();
    });

    it('replaces a record on upsert, keeping one row', async () => {
      const id = randomId();
      await adapter('Session').upsert(id, payloadFor('Session', { uid: 'first-uid' }), 600);
      const second = payloadFor('Session', { uid: 'second-uid' });
      await adapter('Session', 1).upsert(id, second, 60);

      expect(await adapter('Session').find(id)).toEqual(second);
      expect(await adapter('Session').findByUid('second-uid')).toEqual(second);
      expect(await adapter('Session').findByUid('first-uid')).toBeUndefined();
      expect(await rows()).toHaveLength(1);
      clock.advance(60);
      expect(await adapter('Session').find(id)).toBeUndefined(); // the second expiry
    });

    it('treats a record as absent from the moment it expires, before any cleanup', async () => {
      const id = randomId();
      await adapter('AuthorizationCode').upsert(id, payloadFor('AuthorizationCode'), 60);
      await adapter('Session').upsert('session-id', payloadFor('Session', { uid: 'the-uid' }), 60);
      await adapter('DeviceCode').upsert('device-id', payloadFor('DeviceCode', { userCode: 'ABCD-EFGH' }), 60);
      await adapter('Grant').upsert('forever', payloadFor('Grant'));

      clock.advance(59);
      expect(await adapter('AuthorizationCode').find(id)).toBeDefined();
      clock.advance(1);
      expect(await adapter('AuthorizationCode').find(id)).toBeUndefined();
      expect(await adapter('Session').findByUid('the-uid')).toBeUndefined();
      expect(await adapter('DeviceCode').findByUserCode('ABCD-EFGH')).toBeUndefined();
      expect(await adapter('AuthorizationCode').consume(id)).toBe(false);
      expect(await rows()).toHaveLength(4);

      clock.advance(365 * 86_400);
      expect(await adapter('Grant').find('forever')).toBeDefined(); // stored without an expiry
    });

    it("finds a session by its uid and a device code by its user code, within the record's model", async () => {
      const session = payloadFor('Session', { uid: 'session-uid' });
      await adapter('Session').upsert(randomId(), session, 600);
      await adapter('Interaction').upsert(randomId(), payloadFor('Interaction', { uid: 'interaction-uid' }), 600);
      const deviceCode = payloadFor('DeviceCode', { userCode: 'BDWP-HQPK' });
      await adapter('DeviceCode').upsert(randomId(), deviceCode, 600);

      expect(await adapter('Session', 1).findByUid('session-uid')).toEqual(session);
      expect(await adapter('Session', 1).findByUid('interaction-uid')).toBeUndefined();
      expect(await adapter('Session', 1).findByUid('unknown')).toBeUndefined();
      expect(await adapter('DeviceCode', 1).findByUserCode('BDWP-HQPK')).toEqual(deviceCode);
      expect(await adapter('DeviceCode', 1).findByUserCode('BDWP-XXXX')).toBeUndefined();
      expect(await adapter('Session', 1).findByUserCode('BDWP-HQPK')).toBeUndefined();
    });

    it('consumes once: the record reads consumed, and a second consume calls the hook', async () => {
      const id = randomId();
      const payload = payloadFor('AuthorizationCode', { grantId: randomId() });
      await adapter('AuthorizationCode').upsert(id, payload, 600);
      expect(await adapter('AuthorizationCode').find(id)).not.toHaveProperty('consumed');

      clock.advance(5);
      expect(await adapter('AuthorizationCode').consume(id)).toBe(true);
      expect(onAlreadyConsumed).not.toHaveBeenCalled();
      expect(await adapter('AuthorizationCode', 1).find(id)).toEqual({
        ...payload,
        consumed: Math.floor(clock.now() / 1000),
      });

      expect(await adapter('AuthorizationCode', 1).consume(id)).toBe(false);
      expect(onAlreadyConsumed).toHaveBeenCalledTimes(1);
      expect(await adapter('AuthorizationCode').consume(randomId())).toBe(false); // gone, or never there
      expect(onAlreadyConsumed).toHaveBeenCalledTimes(2);
    });

    it('lets the hook refuse a second consume, and consumes nothing without one', async () => {
      const id = randomId();
      await adapter('RefreshToken').upsert(id, payloadFor('RefreshToken'), 600);
      const refusing = new (storages[1].adapterClass(() => {
        throw new Error('already consumed');
      }))('RefreshToken');
      await expect(refusing.consume(id)).resolves.toBe(true);
      await expect(refusing.consume(id)).rejects.toThrow('already consumed');
      await expect(new (storages[0].adapterClass())('RefreshToken').consume(id)).resolves.toBe(false);
    });

    it('lets exactly one of many concurrent consumes on both instances win', async () => {
      for (let round = 0; round < 5; round++) {
        const id = randomId();
        await adapter('AuthorizationCode').upsert(id, payloadFor('AuthorizationCode'), 600);
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => adapter('AuthorizationCode', (i % 2) as 0 | 1).consume(id)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      }
      expect(onAlreadyConsumed).toHaveBeenCalledTimes(5 * 9);
    });

    it('destroys one record and nothing else', async () => {
      const id = randomId();
      await adapter('Session').upsert(id, payloadFor('Session'), 600);
      await adapter('Interaction').upsert(id, payloadFor('Interaction'), 600);
      await adapter('Session').upsert(randomId(), payloadFor('Session'), 600);

      await adapter('Session', 1).destroy(id);
      expect(await adapter('Session').find(id)).toBeUndefined();
      expect(await adapter('Interaction').find(id)).toBeDefined();
      expect(await rows()).toHaveLength(2);
    });

    it("revokes a grant: every code and token of it goes, the grant's other records and other grants stay", async () => {
      const grantId = randomId();
      const revoked = GRANTED.map((model) => ({ model, id: randomId() }));
      for (const { model, id } of revoked) await adapter(model).upsert(id, payloadFor(model, { grantId }), 600);
      const kept = [
        { model: 'Grant', id: grantId, payload: payloadFor('Grant') },
        { model: 'Interaction', id: randomId(), payload: payloadFor('Interaction', { grantId }) },
        { model: 'AccessToken', id: randomId(), payload: payloadFor('AccessToken', { grantId: randomId() }) },
        { model: 'RefreshToken', id: randomId(), payload: payloadFor('RefreshToken') },
      ];
      for (const { model, id, payload } of kept) await adapter(model).upsert(id, payload, 600);

      await adapter('AccessToken', 1).revokeByGrantId(grantId);

      for (const { model, id } of revoked) expect({ model, found: await adapter(model).find(id) }).toEqual({ model });
      for (const { model, id, payload } of kept) expect(await adapter(model).find(id)).toEqual(payload);
      expect(await rows()).toHaveLength(kept.length);
    });

    it('stores no id, uid, user code, grant id nor any payload value in plain text', async () => {
      const secrets: string[] = [];
      const collect = (value: unknown): void => {
        if (typeof value === 'string') secrets.push(value);
        else if (value && typeof value === 'object') Object.values(value).forEach(collect);
      };
      for (const model of MODELS) {
        const id = randomId();
        const payload = payloadFor(model, { grantId: randomId(), uid: randomId(), userCode: randomId() });
        await adapter(model).upsert(id, payload, 600);
        await adapter(model).consume(id);
        collect([id, payload]);
      }

      const stored = await rows();
      expect(stored).toHaveLength(MODELS.length);
      const table = JSON.stringify(stored);
      const distinctive = secrets.filter((value) => value.length >= 16 && !MODELS.includes(value));
      expect(distinctive.length).toBeGreaterThan(MODELS.length * 10);
      for (const secret of distinctive)
        expect({ secret, stored: table.includes(secret) }).toEqual({ secret, stored: false });
    });

    it('finds nothing in a record it cannot open', async () => {
      await adapter('Session').upsert('altered', payloadFor('Session'), 600);
      await dataSources[0].query(`UPDATE oidc_payloads SET payload = 'bm90LWEtc2VhbGVkLXBheWxvYWQtYXQtYWxs'`);
      expect(await adapter('Session').find('altered')).toBeUndefined();
    });

    it('deletes only expired records, in batches, and counts them', async () => {
      const now = clock.now();
      for (let i = 0; i < 5; i++) await adapter('AccessToken').upsert(`expired-${i}`, payloadFor('AccessToken'), 10);
      await adapter('AccessToken').upsert('expiring-now', payloadFor('AccessToken'), 20);
      await adapter('AccessToken').upsert('live', payloadFor('AccessToken'), 21);
      await adapter('Grant').upsert('forever', payloadFor('Grant'));

      expect(await storages[1].deleteExpired(new Date(now + 20_000), 2)).toBe(6);
      expect(await rows()).toHaveLength(2);
      expect(await adapter('AccessToken').find('live')).toBeDefined();
      expect(await adapter('Grant').find('forever')).toBeDefined();
      expect(await storages[1].deleteExpired(new Date(now + 20_000), 2)).toBe(0);
    });
  });
}
