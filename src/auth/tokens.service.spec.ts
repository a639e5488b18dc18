import { generateKeyPairSync, KeyObject, randomBytes } from 'node:crypto';
import { jwtVerify } from 'jose';
import { sign } from 'jsonwebtoken';
import { loadConfig } from '../config/app-config';
import { principalOf } from './principal';
import { loadSigningKeys } from './signing-keys';
import { TokensService } from './tokens.service';
import { VerifiedTokens } from './verified-tokens';
import { FakeClock } from '../../test/support/fake-clock';

function buildTokens() {
  const config = loadConfig({
    NODE_ENV: 'test',
    SECRET_KEY: randomBytes(32).toString('hex'),
    PUBLIC_URL: 'https://login.example.com',
    JWT_PRIVATE_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
  });
  const clock = new FakeClock();
  const verified = new VerifiedTokens();
  const keys = loadSigningKeys(config.jwt);
  const sut = new TokensService(keys, verified, config, clock);
  return { sut, keys, verified, clock };
}

const userClaims = {
  subject: 'c0ffee00-0000-4000-8000-000000000001',
  sessionId: 'c0ffee00-0000-4000-8000-000000000002',
  email: 'a@example.com',
  roles: ['user', 'admin'],
};

describe('TokensService signs', () => {
  it('an ES256 JWS with typ at+jwt and the key’s kid, which a JWS library other than ours verifies', async () => {
    const { sut, keys, clock } = buildTokens();
    const { token } = sut.signAccessToken(userClaims, 60);

    const { protectedHeader, payload } = await jwtVerify(token, keys.current.publicKey, {
      algorithms: ['ES256'],
      issuer: 'https://login.example.com',
      audience: 'https://login.example.com',
      typ: 'at+jwt',
      currentDate: new Date(clock.now()),
    });
    expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: keys.current.kid });
    const iat = clock.now() / 1000;
    expect(payload).toEqual({
      sub: userClaims.subject,
      sid: userClaims.sessionId,
      email: userClaims.email,
      roles: ['user', 'admin'],
      iat,
      exp: iat + 60,
      iss: 'https://login.example.com',
      aud: 'https://login.example.com',
    });
  });

  it('the token id in the jti claim, and tells when the token was issued and when it expires', () => {
    const { sut } = buildTokens();
    const signed = sut.signAccessToken(
      { subject: 'service:billing', scope: 'audit:read', tokenId: 'c2VydmljZS10b2tlbi1pZA' },
      60,
    );

    const payload = sut.verifyAccessToken(signed.token)!;
    expect(payload.jti).toBe('c2VydmljZS10b2tlbi1pZA');
    expect(payload.roles).toEqual([]);
    expect(signed.issuedAt).toBe(payload.iat! * 1000);
    expect(signed.expiresAt).toBe(payload.exp! * 1000);
  });
});

describe('TokensService remembers what it signs', () => {
  it.each([
    ['a user’s token', userClaims, null],
    [
      'a service token',
      { subject: 'service:billing', scope: 'users:read  audit:read', tokenId: 'c2VydmljZS10b2tlbi1pZA' },
      'c2VydmljZS10b2tlbi1pZA',
    ],
  ])('%s: the remembered principal is the one its verified claims give', (_, claims, tokenId) => {
    const { sut, verified, clock } = buildTokens();
    const { token } = sut.signAccessToken(claims, 60);

    const payload = sut.verifyAccessToken(token);
    expect(payload).not.toBeNull();
    expect(verified.find(token, clock.now())).toEqual({ principal: principalOf(payload!), tokenId });
  });

  it('forgets a token when it expires', () => {
    const { sut, verified, clock } = buildTokens();
    const { token } = sut.signAccessToken({ subject: 'c0ffee00-0000-4000-8000-000000000001' }, 60);

    clock.advance(59);
    expect(verified.find(token, clock.now())).toBeDefined();
    clock.advance(1);
    expect(verified.find(token, clock.now())).toBeUndefined();
  });

  it('does not take an altered token for the one it signed', () => {
    const { sut, verified, clock } = buildTokens();
    const { token } = sut.signAccessToken({ subject: 'c0ffee00-0000-4000-8000-000000000001' }, 60);
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const altered = [
      header,
      Buffer.from(JSON.stringify({ ...claims, roles: ['user', 'admin'] })).toString('base64url'),
      signature,
    ].join('.');

    expect(verified.find(altered, clock.now())).toBeUndefined();
    expect(sut.verifyAccessToken(altered)).toBeNull();
  });
});

describe('TokensService verifies', () => {
  it('a token until its exp, by the injected clock', () => {
    const { sut, clock } = buildTokens();
    const { token } = sut.signAccessToken({ subject: 'c0ffee00-0000-4000-8000-000000000001' }, 60);

    clock.advance(59);
    expect(sut.verifyAccessToken(token)).not.toBeNull();
    clock.advance(1);
    expect(sut.verifyAccessToken(token)).toBeNull();
  });

  /** A token as we sign them, with our key and kid, unless the overrides say otherwise. */
  function signLikeUs(
    { keys, clock }: ReturnType<typeof buildTokens>,
    { header = {}, claims = {}, privateKey = keys.current.privateKey }: Overrides = {},
  ) {
    const iat = clock.now() / 1000;
    return sign(
      {
        sub: 'c0ffee00-0000-4000-8000-000000000001',
        iat,
        exp: iat + 60,
        iss: 'https://login.example.com',
        aud: 'https://login.example.com',
        ...claims,
      },
      privateKey,
      { algorithm: 'ES256', keyid: keys.current.kid, header: { alg: 'ES256', typ: 'at+jwt', ...header } },
    );
  }

  it('a token signed with our key as we sign them', () => {
    const tokens = buildTokens();
    expect(tokens.sut.verifyAccessToken(signLikeUs(tokens))).not.toBeNull();
  });

  it.each<[string, Overrides]>([
    ['of type JWT', { header: { typ: 'JWT' } }],
    ['with an unknown kid', { header: { kid: 'unknown' } }],
    ['for another audience', { claims: { aud: 'https://elsewhere.example.com' } }],
    ['from another issuer', { claims: { iss: 'https://elsewhere.example.com' } }],
    ['not valid before a time still to come', { claims: { nbf: Date.UTC(2026, 0, 2) / 1000 } }],
    [
      'signed by another key under our kid',
      { privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey },
    ],
  ])('no token %s', (_, overrides) => {
    const tokens = buildTokens();
    expect(tokens.sut.verifyAccessToken(signLikeUs(tokens, overrides))).toBeNull();
  });
});

interface Overrides {
  header?: Record<string, string>;
  claims?: Record<string, unknown>;
  privateKey?: KeyObject;
}
