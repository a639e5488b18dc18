import { randomBytes } from 'node:crypto';
import { Secrets } from './secrets';

describe('Secrets: sealed values', () => {
  const key = randomBytes(32);
  const secrets = new Secrets(key);

  it('opens what it sealed, and each seal of the same text differs', () => {
    const first = secrets.seal('oidc-client-secret', 'hunter2');
    const second = secrets.seal('oidc-client-secret', 'hunter2');
    expect(first).not.toEqual(second);
    expect(first).not.toContain('hunter2');
    expect(secrets.open('oidc-client-secret', first)).toBe('hunter2');
  });

  it('refuses a value sealed for another purpose, or altered', () => {
    const sealed = secrets.seal('oidc-state', '{"a":1}');
    expect(() => secrets.open('oidc-client-secret', sealed)).toThrow('no configured key');
    const bytes = Buffer.from(sealed, 'base64url');
    bytes[bytes.length - 1] ^= 1;
    expect(() => secrets.open('oidc-state', bytes.toString('base64url'))).toThrow('no configured key');
  });

  it('opens values sealed under a previous SECRET_KEY once it is listed as previous', () => {
    const sealed = secrets.seal('oidc-client-secret', 'old');
    expect(new Secrets(randomBytes(32), [key]).open('oidc-client-secret', sealed)).toBe('old');
    expect(() => new Secrets(randomBytes(32)).open('oidc-client-secret', sealed)).toThrow();
  });

  it('gives lookup keys that are stable per purpose and differ between purposes', () => {
    expect(secrets.lookupKey('oidc-state', 'x')).toBe(new Secrets(key).lookupKey('oidc-state', 'x'));
    expect(secrets.lookupKey('oidc-state', 'x')).not.toBe(secrets.lookupKey('oidc-client-secret', 'x'));
  });
});
