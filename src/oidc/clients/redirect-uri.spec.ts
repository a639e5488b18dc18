import { isPrivateUseScheme, redirectUriProblem } from './redirect-uri';

const strict = { allowHttpOnAnyHost: false };
const development = { allowHttpOnAnyHost: true };

describe('redirectUriProblem', () => {
  it.each([
    'https://app.example.com/callback',
    'https://app.example.com:8443/auth/callback?tenant=a',
    'https://203.0.113.9/cb',
    'http://localhost:3000/callback',
    'http://LOCALHOST/callback',
    'http://127.0.0.1:8080/cb',
    'http://[::1]:8080/cb',
    'com.example.app:/oauth2redirect',
    'com.example.app://callback',
    `https://app.example.com/${'a'.repeat(2000 - 'https://app.example.com/'.length)}`,
  ])('accepts %s', (uri) => {
    expect(redirectUriProblem(uri, strict)).toBeUndefined();
  });

  it.each([
    ['an empty string', '', 'must not be empty'],
    ['a relative path', '/callback', 'must be an absolute URI'],
    ['a host without a scheme', 'app.example.com/callback', 'must be an absolute URI'],
    ['https without //', 'https:app.example.com/cb', 'must be an absolute URI'],
    ['https with a single slash', 'https:/app.example.com/cb', 'must be an absolute URI'],
    ['a fragment', 'https://app.example.com/cb#done', 'must not contain a fragment'],
    ['an empty fragment', 'https://app.example.com/cb#', 'must not contain a fragment'],
    ['a fragment on a native scheme', 'com.example.app:/cb#x', 'must not contain a fragment'],
    ['a space', 'https://app.example.com/c b', 'must not contain spaces or control characters'],
    ['a trailing newline', 'https://app.example.com/cb\n', 'must not contain spaces or control characters'],
    ['a NUL character', 'https://app.example.com/cb\u0000', 'must not contain spaces or control characters'],
    ['credentials', 'https://user:pass@app.example.com/cb', 'must not contain a user name or password'],
    ['http on a public host', 'http://app.example.com/cb', 'must use https (http only on localhost'],
    ['http on a name that starts like localhost', 'http://localhost.example.com/cb', 'must use https'],
    ['http on another loopback address', 'http://127.0.0.2/cb', 'must use https'],
    ['a scheme without a dot', 'myapp://callback', 'a private-use scheme with a dot'],
    ['javascript:', 'javascript:alert(1)', 'a private-use scheme with a dot'],
    ['data:', 'data:text/html,hi', 'a private-use scheme with a dot'],
    ['file:', 'file:///etc/passwd', 'a private-use scheme with a dot'],
    ['a URI over 2000 characters', `https://app.example.com/${'a'.repeat(2000)}`, 'at most 2000 characters'],
  ])('refuses %s', (_what, uri, reason) => {
    expect(redirectUriProblem(uri, strict)).toContain(reason);
  });

  it('accepts http on any host in development only', () => {
    expect(redirectUriProblem('http://app.internal:8080/cb', development)).toBeUndefined();
    expect(redirectUriProblem('http://app.internal:8080/cb', strict)).toContain('must use https');
  });

  it('keeps every other rule in development', () => {
    expect(redirectUriProblem('http://app.internal/cb#x', development)).toContain('fragment');
    expect(redirectUriProblem('myapp://callback', development)).toContain('private-use scheme');
  });
});

describe('isPrivateUseScheme', () => {
  it.each([
    ['com.example.app:/cb', true],
    ['com.example.app://callback', true],
    ['https://app.example.com/cb', false],
    ['HTTP://localhost/cb', false],
  ])('%s: %s', (uri, expected) => {
    expect(isPrivateUseScheme(uri)).toBe(expected);
  });
});
