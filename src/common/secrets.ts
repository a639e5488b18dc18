import { createHmac, hkdfSync, Hmac } from 'node:crypto';

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
