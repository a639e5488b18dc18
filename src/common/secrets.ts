import { createCipheriv, createDecipheriv, createHmac, hkdfSync, Hmac, randomBytes } from 'node:crypto';

/** What the service stores encrypted, because it must read it back: one key per purpose. */
export type SealedPurpose = 'oidc-client-secret' | 'oidc-state' | 'webhook-secret';

/**
 * Keyed hashes of everything secret the service keeps. One key per purpose is derived from
 * SECRET_KEY, so a hash made for one purpose is useless for another.
 */
export class Secrets {
  private readonly codeKey: Buffer;
  private readonly addressKey: Buffer;
  private readonly refreshKey: Buffer;
  private readonly refreshChainKey: Buffer;
  /** The audit keys of this and the earlier SECRET_KEYs, by key id. */
  private readonly auditKeys: Map<string, Buffer>;
  /** Per sealed purpose, the keys of this and the earlier SECRET_KEYs, current first. */
  private readonly sealKeys: Map<SealedPurpose, Buffer[]>;
  private readonly lookupKeys: Map<SealedPurpose, Buffer>;
  readonly cookieKey: Buffer;
  /** Names the current audit key in the seals it makes; reveals nothing about it. */
  readonly auditKeyId: string;

  constructor(secretKey: Buffer, previousSecretKeys: Buffer[] = []) {
    const derive = (purpose: string, key = secretKey) => Buffer.from(hkdfSync('sha256', key, 'otp-login', purpose, 32));
    this.codeKey = derive('otp-code');
    this.addressKey = derive('address-key');
    this.refreshKey = derive('refresh-token');
    this.refreshChainKey = derive('refresh-token-chain');
    this.cookieKey = derive('cookie');
    this.auditKeys = new Map(
      [secretKey, ...previousSecretKeys].map((key) => {
        const auditKey = derive('audit-chain', key);
        return [createHmac('sha256', auditKey).update('key-id').digest('hex').slice(0, 16), auditKey];
      }),
    );
    this.auditKeyId = this.auditKeys.keys().next().value!;
    const purposes: SealedPurpose[] = ['oidc-client-secret', 'oidc-state', 'webhook-secret'];
    this.sealKeys = new Map(
      purposes.map((purpose) => [
        purpose,
        [secretKey, ...previousSecretKeys].map((key) => derive(`seal:${purpose}`, key)),
      ]),
    );
    this.lookupKeys = new Map(purposes.map((purpose) => [purpose, derive(`lookup:${purpose}`)]));
  }

  /** AES-256-GCM under the purpose's key: `base64url(iv | tag | ciphertext)`. */
  seal(purpose: SealedPurpose, plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKeys.get(purpose)![0], iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
  }

  /** The plaintext of `seal`, under the current or an earlier SECRET_KEY; throws when none opens it. */
  open(purpose: SealedPurpose, sealed: string): string {
    const bytes = Buffer.from(sealed, 'base64url');
    for (const key of this.sealKeys.get(purpose)!) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
        decipher.setAuthTag(bytes.subarray(12, 28));
        return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        // Sealed under another key, or altered: try the next.
      }
    }
    throw new Error(`no configured key opens this ${purpose} value`);
  }

  /** A stable keyed hash to find a stored record by a value that must not be stored itself. */
  lookupKey(purpose: SealedPurpose, value: string): string {
    return createHmac('sha256', this.lookupKeys.get(purpose)!).update(value).digest('base64url');
  }

  /** The only form in which a code is stored: bound to its login, so it matches nowhere else. */
  hashCode(loginId: string, code: string): string {
    return createHmac('sha256', this.codeKey).update(`${loginId}:${code}`).digest('hex');
  }

  /** A stable, non-reversible key for an address's state in the OTP store. */
  addressTag(email: string): string {
    return createHmac('sha256', this.addressKey).update(email).digest('base64url').slice(0, 16);
  }

  hashRefreshToken(secret: string): string {
    return createHmac('sha256', this.refreshKey).update(secret).digest('hex');
  }

  /**
   * A link of the audit chain: only the service can make one, so a database edit cannot be
   * re-sealed. `keyId` picks an earlier key; undefined when no configured key has that id.
   */
  auditSeal(previousSeal: string, content: string, keyId = this.auditKeyId): string | undefined {
    return this.auditHmac(keyId)?.update(previousSeal).update('\n').update(content).digest('hex');
  }

  /** The ids of the audit keys, current first: for seals made before key ids were recorded. */
  auditKeyIds(): string[] {
    return [...this.auditKeys.keys()];
  }

  auditHmac(keyId = this.auditKeyId): Hmac | undefined {
    const key = this.auditKeys.get(keyId);
    return key && createHmac('sha256', key);
  }

  /** The secret that replaces `secret` at rotation: only the server can compute it. */
  nextRefreshSecret(secret: string): string {
    return createHmac('sha256', this.refreshChainKey).update(secret).digest('base64url');
  }
}
