import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { Secrets } from '../../common/secrets';
import type { OidcAdapter, OidcAdapterClass, OidcAdapterPayload } from './oidc-adapter';
import { OidcPayload } from './oidc-payload.entity';
import { OidcPayloadLookup, OidcPayloadsRepository } from './oidc-payloads.repository';

/** The models whose records revoking a grant deletes (as oidc-provider's own adapters do). */
const GRANTED = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

const PURPOSE = 'oidc-state';

/** One model's view of the shared state: what oidc-provider calls, handed to OidcStorage. */
class OidcStateAdapter implements OidcAdapter {
  /** The class oidc-provider instantiates per model, bound to the storage and the hook. */
  static boundTo(storage: OidcStorage, onAlreadyConsumed: () => void): OidcAdapterClass {
    return class extends OidcStateAdapter {
      constructor(model: string) {
        super(model, storage, onAlreadyConsumed);
      }
    };
  }

  constructor(
    readonly model: string,
    private readonly storage: OidcStorage,
    private readonly onAlreadyConsumed: () => void,
  ) {}

  upsert(id: string, payload: OidcAdapterPayload, expiresIn?: number): Promise<void> {
    return this.storage.upsert(this.model, id, payload, expiresIn);
  }

  find(id: string): Promise<OidcAdapterPayload | undefined> {
    return this.storage.find(this.model, 'key', id);
  }

  findByUid(uid: string): Promise<OidcAdapterPayload | undefined> {
    return this.storage.find(this.model, 'uidKey', uid);
  }

  findByUserCode(userCode: string): Promise<OidcAdapterPayload | undefined> {
    return this.storage.find(this.model, 'userCodeKey', userCode);
  }

  /** True when this call consumed the record; otherwise the hook runs (and may throw). */
  async consume(id: string): Promise<boolean> {
    const consumed = await this.storage.consume(this.model, id);
    if (!consumed) this.onAlreadyConsumed();
    return consumed;
  }

  destroy(id: string): Promise<void> {
    return this.storage.destroy(this.model, id);
  }

  revokeByGrantId(grantId: string): Promise<void> {
    return this.storage.revokeByGrantId(grantId);
  }
}

/**
 * The OpenID Provider's state in the database, so that every instance sees it. For opaque
 * tokens the id is the token, and payloads carry session ids: ids and looked-up values are
 * stored as keyed hashes only, payloads sealed.
 */
@Injectable()
export class OidcStorage {
  constructor(
    private readonly payloads: OidcPayloadsRepository,
    private readonly secrets: Secrets,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  /**
   * The `adapter` for oidc-provider's configuration. `onAlreadyConsumed` runs when a consume
   * finds its record already consumed (or gone since it was read): throw there to refuse the
   * second of two concurrent uses of a code.
   */
  adapterClass(onAlreadyConsumed: () => void = () => undefined): OidcAdapterClass {
    return OidcStateAdapter.boundTo(this, onAlreadyConsumed);
  }

  async upsert(model: string, id: string, payload: OidcAdapterPayload, expiresIn?: number): Promise<void> {
    const now = this.clock.now();
    const record: OidcPayload = {
      model,
      key: this.lookupKey(model, id),
      payload: this.secrets.seal(PURPOSE, JSON.stringify(payload)),
      grantKey: GRANTED.has(model) && typeof payload.grantId === 'string' ? this.grantKey(payload.grantId) : null,
      uidKey: typeof payload.uid === 'string' ? this.lookupKey('uid', payload.uid) : null,
      userCodeKey: typeof payload.userCode === 'string' ? this.lookupKey('userCode', payload.userCode) : null,
      expiresAt: typeof expiresIn === 'number' ? new Date(now + expiresIn * 1000) : null,
      consumedAt: payload.consumed
        ? new Date(typeof payload.consumed === 'number' ? payload.consumed * 1000 : now)
        : null,
    };
    await this.payloads.upsert(record);
  }

  /** The payload, `consumed` set if it was; undefined when absent, expired or not ours to open. */
  async find(model: string, lookup: OidcPayloadLookup, value: string): Promise<OidcAdapterPayload | undefined> {
    const prefix = { key: model, uidKey: 'uid', userCodeKey: 'userCode' }[lookup];
    const record = await this.payloads.findLive(
      model,
      lookup,
      this.lookupKey(prefix, value),
      new Date(this.clock.now()),
    );
    if (!record) return undefined;
    let payload: OidcAdapterPayload;
    try {
      payload = JSON.parse(this.secrets.open(PURPOSE, record.payload)) as OidcAdapterPayload;
    } catch {
      return undefined;
    }
    if (record.consumedAt && !payload.consumed) payload.consumed = Math.floor(record.consumedAt.getTime() / 1000);
    return payload;
  }

  /** Whether this call consumed the record: false when it already was, has expired or is gone. */
  consume(model: string, id: string): Promise<boolean> {
    return this.payloads.consume(model, this.lookupKey(model, id), new Date(this.clock.now()));
  }

  destroy(model: string, id: string): Promise<void> {
    return this.payloads.delete(model, this.lookupKey(model, id));
  }

  revokeByGrantId(grantId: string): Promise<void> {
    return this.payloads.deleteByGrant(this.grantKey(grantId));
  }

  /** Deletes the records expired by `now`, in batches; returns how many. */
  async deleteExpired(now: Date, batch: number): Promise<number> {
    let deleted = 0;
    for (let removed = batch; removed === batch; deleted += removed)
      removed = await this.payloads.deleteExpired(now, batch);
    return deleted;
  }

  private grantKey(grantId: string): string {
    return this.lookupKey('grant', grantId);
  }

  private lookupKey(kind: string, value: string): string {
    return this.secrets.lookupKey(PURPOSE, `${kind}:${value}`);
  }
}
