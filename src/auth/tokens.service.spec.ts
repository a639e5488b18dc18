import { generateKeyPairSync, randomBytes } from 'node:crypto';
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
    JWT_PRIVATE_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
  });
  const clock = new FakeClock();
  const verified = new VerifiedTokens();
  return { tokens: new TokensService(loadSigningKeys(config.jwt), verified, config, clock), verified, clock };
}

describe('TokensService remembers what it signs', () => {
  it.each([
    [
      'a user’s token',
      {
        subject: 'c0ffee00-0000-4000-8000-000000000001',
        sessionId: 'c0ffee00-0000-4000-8000-000000000002',
        email: 'a@example.com',
        roles: ['user', 'admin'],
      },
    ],
    ['a service token', { subject: 'service:billing', scope: 'users:read  audit:read' }],
  ])('%s: the remembered principal is the one its verified claims give', (_, claims) => {
    const { tokens, verified, clock } = buildTokens();
    const { token } = tokens.signAccessToken(claims, 60);

    const payload = tokens.verifyAccessToken(token);
    expect(payload).not.toBeNull();
    expect(verified.principalOf(token, clock.now())).toEqual(principalOf(payload!));
  });

  it('forgets a token when it expires', () => {
    const { tokens, verified, clock } = buildTokens();
    const { token } = tokens.signAccessToken({ subject: 'c0ffee00-0000-4000-8000-000000000001' }, 60);

    clock.advance(59);
    expect(verified.principalOf(token, clock.now())).toBeDefined();
    clock.advance(1);
    expect(verified.principalOf(token, clock.now())).toBeUndefined();
  });

  it('does not take an altered token for the one it signed', () => {
    const { tokens, verified, clock } = buildTokens();
    const { token } = tokens.signAccessToken({ subject: 'c0ffee00-0000-4000-8000-000000000001' }, 60);
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const altered = [
      header,
      Buffer.from(JSON.stringify({ ...claims, roles: ['user', 'admin'] })).toString('base64url'),
      signature,
    ].join('.');

    expect(verified.principalOf(altered, clock.now())).toBeUndefined();
    expect(tokens.verifyAccessToken(altered)).toBeNull();
  });

  it('puts the token id in the jti claim and tells when the token was issued and when it expires', () => {
    const { tokens } = buildTokens();
    const signed = tokens.signAccessToken(
      { subject: 'service:billing', scope: 'audit:read', tokenId: 'c2VydmljZS10b2tlbi1pZA' },
      60,
    );

    const payload = tokens.verifyAccessToken(signed.token)!;
    expect(payload.jti).toBe('c2VydmljZS10b2tlbi1pZA');
    expect(signed.issuedAt).toBe(payload.iat! * 1000);
    expect(signed.expiresAt).toBe(payload.exp! * 1000);
  });
});
