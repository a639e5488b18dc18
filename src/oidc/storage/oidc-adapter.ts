/**
 * The storage interface oidc-provider calls (it ships no types): one adapter per model, built
 * with `new Adapter(modelName)`. Payloads are the library's, stored as they are.
 */
export interface OidcAdapterPayload {
  [claim: string]: unknown;
  /** The grant a code or token belongs to. */
  grantId?: string;
  /** A session's uid, which other records refer to. */
  uid?: string;
  /** A device flow's user code. */
  userCode?: string;
  /** When a code or token was used, in seconds since the epoch. */
  consumed?: unknown;
}

export interface OidcAdapter {
  upsert(id: string, payload: OidcAdapterPayload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<OidcAdapterPayload | undefined>;
  findByUid(uid: string): Promise<OidcAdapterPayload | undefined>;
  findByUserCode(userCode: string): Promise<OidcAdapterPayload | undefined>;
  consume(id: string): Promise<unknown>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

export type OidcAdapterClass = new (model: string) => OidcAdapter;
