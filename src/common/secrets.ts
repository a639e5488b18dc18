import { createHmac, hkdfSync } from 'node:crypto';

/**
 * Keyed hashes of everything secret the service keeps. One key per purpose is derived from
 * SECRET_KEY, so a hash made for one purpose is useless for another.
 */
export class Secrets {
  private readonly codeKey: Buffer;
  private readonly addressKey: Buffer;
  private readonly refreshKey: Buffer;
  private readonly refreshChainKey: Buffer;
  private readonly auditKey: Buffer;
  readonly cookieKey: Buffer;

  constructor(secretKey: Buffer) {
    const derive = (purpose: string) => Buffer.from(hkdfSync('sha256', secretKey, 'otp-login', purpose, 32));
    this.codeKey = derive('otp-code');
    this.addressKey = derive('address-key');
    this.refreshKey = derive('refresh-token');
    this.refreshChainKey = derive('refresh-token-chain');
    this.auditKey = derive('audit-chain');
    this.cookieKey = derive('cookie');
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

  /** A link of the audit chain: only the service can make one, so a database edit cannot be re-sealed. */
  auditSeal(previousSeal: string, content: string): string {
    return createHmac('sha256', this.auditKey).update(previousSeal).update('\n').update(content).digest('hex');
  }

  /** The secret that replaces `secret` at rotation: only the server can compute it. */
  nextRefreshSecret(secret: string): string {
    return createHmac('sha256', this.refreshChainKey).update(secret).digest('base64url');
  }
}
