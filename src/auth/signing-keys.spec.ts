import { createPublicKey, createSign, createVerify, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtConfig } from '../config/app-config';
import { loadSigningKeys } from './signing-keys';

const pem = (type: 'ec' | 'rsa', bits = 2048) =>
  (type === 'ec'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: bits })
  ).privateKey
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();

describe('signing keys: the EC keys and the RSA key, in one JWKS', () => {
  let dir: string;
  const jwt = (overrides: Partial<JwtConfig>): JwtConfig => ({
    issuer: 'http://login.test',
    audience: 'http://login.test',
    accessTtlSeconds: 900,
    refreshTtlSeconds: 3600,
    sessionMaxAgeSeconds: 86_400,
    refreshGraceSeconds: 0,
    keysDir: join(dir, 'keys'),
    generateMissingKey: false,
    ...overrides,
  });
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'keys-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('generates both once in development, readable by the owner only, and publishes both', () => {
    const first = loadSigningKeys(jwt({ generateMissingKey: true }));
    const again = loadSigningKeys(jwt({ generateMissingKey: true }));
    expect(readdirSync(join(dir, 'keys'))).toHaveLength(2);
    expect(statSync(join(dir, 'keys', 'rsa.pem')).mode & 0o777).toBe(0o600);
    expect(again.rsa?.kid).toBe(first.rsa?.kid);
    expect(again.current.kid).toBe(first.current.kid);
    expect(first.jwks().keys.map((key) => [key.kty, key.alg, key.use])).toEqual([
      ['EC', 'ES256', 'sig'],
      ['RSA', 'RS256', 'sig'],
    ]);
  });

  it('reads JWT_RSA_PRIVATE_KEY, whose published key verifies what the private key signs', () => {
    const keys = loadSigningKeys(jwt({ privateKeyText: pem('ec'), rsaPrivateKeyText: pem('rsa') }));
    const published = keys.jwks().keys.find((key) => key.kid === keys.rsa!.kid)!;
    const signature = createSign('RSA-SHA256').update('payload').sign(keys.rsa!.privateKey);
    const verifier = createPublicKey({ key: published as never, format: 'jwk' });
    expect(createVerify('RSA-SHA256').update('payload').verify(verifier, signature)).toBe(true);
    expect(published.kid).not.toBe(keys.current.kid);
  });

  it('has no RSA key when keys are configured and JWT_RSA_PRIVATE_KEY is not', () => {
    const keys = loadSigningKeys(jwt({ privateKeyText: pem('ec'), generateMissingKey: true }));
    expect(keys.rsa).toBeUndefined();
    expect(keys.jwks().keys).toHaveLength(1);
  });

  it.each([
    ['an EC key', () => pem('ec'), 'JWT_RSA_PRIVATE_KEY must hold an RSA private key'],
    ['a 1024-bit key', () => pem('rsa', 1024), 'JWT_RSA_PRIVATE_KEY must hold an RSA key of at least 2048 bits'],
    ['text that is no key', () => 'not a key', 'JWT_RSA_PRIVATE_KEY holds an RSA key that cannot be read'],
  ])('refuses %s in JWT_RSA_PRIVATE_KEY, naming it', (_, key, message) => {
    expect(() => loadSigningKeys(jwt({ privateKeyText: pem('ec'), rsaPrivateKeyText: key() }))).toThrow(message);
  });
});
