import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, JsonWebKey, KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, JwtConfig } from '../config/app-config';

export const SIGNING_ALGORITHM = 'ES256';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JsonWebKey;
}

/**
 * The service's ES256 keys. The first key signs; every key verifies, so a rotated-out key keeps
 * its tokens valid until it is removed from the configuration.
 */
export class SigningKeys {
  constructor(readonly all: SigningKey[]) {
    if (all.length === 0) throw new ConfigError('JWT_PRIVATE_KEY', 'no signing key is configured');
  }

  get current(): SigningKey {
    return this.all[0];
  }

  find(kid: string): SigningKey | undefined {
    return this.all.find((key) => key.kid === kid);
  }

  jwks(): { keys: Record<string, unknown>[] } {
    return { keys: this.all.map((key) => ({ ...key.publicJwk, kid: key.kid, alg: SIGNING_ALGORITHM, use: 'sig' })) };
  }
}

/** JWT_PRIVATE_KEY (newest first), else the files of JWT_KEYS_DIR (newest file name first). */
export function loadSigningKeys(jwt: JwtConfig): SigningKeys {
  if (jwt.privateKeyText)
    return new SigningKeys(splitKeyText(jwt.privateKeyText).map((text) => toSigningKey(text, 'JWT_PRIVATE_KEY')));
  if (!existsSync(jwt.keysDir) || keyFiles(jwt.keysDir).length === 0) {
    if (!jwt.generateMissingKey)
      throw new ConfigError('JWT_KEYS_DIR', `holds no key (*.pem or *.json) in ${jwt.keysDir}`);
    generateKeyFile(jwt.keysDir);
  }
  const files = keyFiles(jwt.keysDir).sort().reverse();
  return new SigningKeys(
    files.map((file) => toSigningKey(readFileSync(join(jwt.keysDir, file), 'utf8'), 'JWT_KEYS_DIR')),
  );
}

function keyFiles(dir: string): string[] {
  return readdirSync(dir).filter((file) => file.endsWith('.pem') || file.endsWith('.json'));
}

function generateKeyFile(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = `${new Date().toISOString().replace(/[:.]/g, '-')}.pem`;
  writeFileSync(join(dir, name), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
}

function splitKeyText(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const parsed = parseJson(trimmed);
    const set = (parsed as { keys?: unknown } | null)?.keys;
    const keys: unknown[] = Array.isArray(parsed) ? parsed : Array.isArray(set) ? set : [parsed];
    return keys.map((key) => JSON.stringify(key));
  }
  const blocks = trimmed.match(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/g);
  if (!blocks) throw new ConfigError('JWT_PRIVATE_KEY', 'is neither a PEM private key nor a JWK');
  return blocks;
}

function toSigningKey(text: string, variable: string): SigningKey {
  let privateKey: KeyObject;
  try {
    const trimmed = text.trim();
    privateKey = trimmed.startsWith('{')
      ? createPrivateKey({ key: parseJson(trimmed) as JsonWebKey, format: 'jwk' })
      : createPrivateKey(trimmed);
  } catch {
    throw new ConfigError(variable, 'holds a key that cannot be read (expected a PEM or JWK EC P-256 private key)');
  }
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new ConfigError(variable, 'must hold EC P-256 keys (ES256)');
  }
  const publicKey = createPublicKey(privateKey);
  const publicJwk = publicKey.export({ format: 'jwk' });
  return { kid: thumbprint(publicJwk), privateKey, publicKey, publicJwk };
}

/** RFC 7638 thumbprint: the same key always gets the same kid, on every instance. */
function thumbprint(jwk: JsonWebKey): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ConfigError('JWT_PRIVATE_KEY', 'looks like JSON but does not parse');
  }
}
