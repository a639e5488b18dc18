import { randomInt } from 'node:crypto';
import { secureRandomBytes } from '../common/random';

/** The randomness of a login, injected so the rules can be tested with known values. */
export class CodeGenerator {
  /** `length` decimal digits from a CSPRNG, uniformly distributed. */
  code(length: number): string {
    return randomInt(0, 10 ** length)
      .toString()
      .padStart(length, '0');
  }

  /** 192 bits, URL-safe. */
  loginSecret(): string {
    return secureRandomBytes(24).toString('base64url');
  }
}
