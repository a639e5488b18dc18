import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, JsonWebKey, KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, JwtConfig } from '../config/app-config';

export const SIGNING_ALGORITHM = 'ES256';
export const RSA_SIGNING_ALGORITHM = 'RS256';
/** The RSA key's file in a generated keys directory; the EC keys are the directory's other files. */
const RSA_KEY_FILE = 'rsa.pem';
const RSA_MIN_BITS = 2048;

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JsonWebKey;
}

/**
 * The service's ES256 keys. The first key signs; every key verifies, so a rotated-out key keeps
 * its tokens valid until it is removed from the configuration. Beside them, an optional RSA key
 * for the ID tokens of OpenID clients registered for RS256; both kinds are in the one JWKS.
 */
export class SigningKeys {
  constructor(
    readonly all: SigningKey[],
    readonly rsa?: SigningKey,
  ) {
    if (all.length === 0) throw new ConfigError('JWT_PRIVATE_KEY', 'no signing key is configured');
  }

  get current(): SigningKey {
    return this.all[0];
  }

  find(kid: string): SigningKey | undefined {
    return this.all.find((key) => key.kid === kid);
  }

  jwks(): { keys: Record<string, unknown>[] } {
    const published = (key: SigningKey, alg: string) => ({ ...key.publicJwk, kid: key.kid, alg, use: 'sig' });
    return {
      keys: [
        ...this.all.map((key) => published(key, SIGNING_ALGORITHM)),
        ...(this.rsa ? [published(this.rsa, RSA_SIGNING_ALGORITHM)] : []),
      ],
    };
  }
}

/**
 * JWT_PRIVATE_KEY (newest first), else the files of JWT_KEYS_DIR (newest file name first); the
 * RSA key from JWT_RSA_PRIVATE_KEY, else, where keys are generated, from the directory's rsa.pem.
 */
export function loadSigningKeys(jwt: JwtConfig): SigningKeys {
  const rsa = jwt.rsaPrivateKeyText
    ? toRsaKey(jwt.rsaPrivateKeyText, 'JWT_RSA_PRIVATE_KEY')
    : !jwt.privateKeyText && jwt.generateMissingKey
      ? toRsaKey(generatedRsaKey(jwt.keysDir), 'JWT_KEYS_DIR')
      : undefined;
  if (jwt.privateKeyText)
    return new SigningKeys(
      splitKeyText(jwt.privateKeyText).map((text) => toSigningKey(text, 'JWT_PRIVATE_KEY')),
      rsa,
    );
  if (!existsSync(jwt.keysDir) || keyFiles(jwt.keysDir).length === 0) {
    if (!jwt.generateMissingKey)
      throw new ConfigError('JWT_KEYS_DIR', `holds no key (*.pem or *.json) in ${jwt.keysDir}`);
    generateKeyFile(
      jwt.keysDir,
      `${new Date().toISOString().replace(/[:.]/g, '-')}.pem`,
      () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
    );
  }
  const files = keyFiles(jwt.keysDir).sort().reverse();
  return new SigningKeys(
    files.map((file) => toSigningKey(readFileSync(join(jwt.keysDir, file), 'utf8'), 'JWT_KEYS_DIR')),
    rsa,
  );
}

function keyFiles(dir: string): string[] {
  return readdirSync(dir).filter((file) => (file.endsWith('.pem') || file.endsWith('.json')) && file !== RSA_KEY_FILE);
}

function generatedRsaKey(dir: string): string {
  const file = join(dir, RSA_KEY_FILE);
  if (!existsSync(file))
    generateKeyFile(dir, RSA_KEY_FILE, () => generateKeyPairSync('rsa', { modulusLength: RSA_MIN_BITS }).privateKey);
  return readFileSync(file, 'utf8');
}

function generateKeyFile(dir: string, name: string, generate: () => KeyObject): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, name), generate().export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
}

function toRsaKey(text: string, variable: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(text.trim());
  } catch {
    throw new ConfigError(variable, 'holds an RSA key that cannot be read (expected a PEM private key)');
  }
  if (privateKey.asymmetricKeyType !== 'rsa') throw new ConfigError(variable, 'must hold an RSA private key (RS256)');
  if ((privateKey.asymmetricKeyDetails?.modulusLength ?? 0) < RSA_MIN_BITS)
    throw new ConfigError(variable, `must hold an RSA key of at least ${RSA_MIN_BITS} bits`);
  const publicKey = createPublicKey(privateKey);
  const publicJwk = publicKey.export({ format: 'jwk' });
  return { kid: thumbprint(publicJwk), privateKey, publicKey, publicJwk };
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
  const canonical = JSON.stringify(
    jwk.kty === 'RSA' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y },
  );
  return createHash('sha256').update(canonical).digest('base64url');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ConfigError('JWT_PRIVATE_KEY', 'looks like JSON but does not parse');
  }
}
