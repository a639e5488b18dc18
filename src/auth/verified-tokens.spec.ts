import { Principal } from './principal';
import { VerifiedTokens } from './verified-tokens';

const principal = (subject: string): Principal => ({ subject, userId: subject, sessionId: 's', email: null, roles: ['user'], scopes: [] });

describe('VerifiedTokens', () => {
  it('remembers a token until its expiry, not a millisecond longer', () => {
    const tokens = new VerifiedTokens();
    tokens.remember('token-a', { principal: principal('a'), expiresAt: 1_000 });
    expect(tokens.get('token-a', 999)?.principal.subject).toBe('a');
    expect(tokens.get('token-a', 1_000)).toBeUndefined();
    expect(tokens.get('token-a', 999)).toBeUndefined();
  });

  it('knows only the exact text it verified', () => {
    const tokens = new VerifiedTokens();
    tokens.remember('token-a', { principal: principal('a'), expiresAt: 1_000 });
    expect(tokens.get('token-a ', 0)).toBeUndefined();
    expect(tokens.get('token-A', 0)).toBeUndefined();
  });

  it('forgets the oldest entries beyond its size', () => {
    const tokens = new VerifiedTokens(2);
    for (const name of ['a', 'b', 'c']) tokens.remember(`token-${name}`, { principal: principal(name), expiresAt: 1_000 });
    expect(tokens.get('token-a', 0)).toBeUndefined();
    expect(tokens.get('token-b', 0)?.principal.subject).toBe('b');
    expect(tokens.get('token-c', 0)?.principal.subject).toBe('c');
  });
});
