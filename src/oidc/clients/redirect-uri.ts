export const MAX_REDIRECT_URI_LENGTH = 2000;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
// eslint-disable-next-line no-control-regex -- finding control characters and spaces is the point
const WHITESPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f-\u009f]/;

export interface RedirectUriPolicy {
  /** http on any host, not only loopback: development only. */
  allowHttpOnAnyHost: boolean;
}

/**
 * Why a redirect URI (or post-logout redirect URI) cannot be registered, or undefined when it
 * can. The provider matches them exactly, so the URI is judged as written: absolute, no
 * fragment (OAuth 2.0 §3.1.2); https, or http on the loopback (RFC 8252 §7.3), or a native
 * app's private-use scheme, which has a dot as a reversed domain name has (RFC 8252 §7.1).
 */
export function redirectUriProblem(uri: string, policy: RedirectUriPolicy): string | undefined {
  if (uri.length === 0) return 'must not be empty';
  if (uri.length > MAX_REDIRECT_URI_LENGTH) return `must be at most ${MAX_REDIRECT_URI_LENGTH} characters`;
  if (WHITESPACE_OR_CONTROL.test(uri)) return 'must not contain spaces or control characters';
  if (uri.includes('#')) return 'must not contain a fragment (#)';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'must be an absolute URI, such as https://app.example.com/callback';
  }
  const scheme = url.protocol.slice(0, -1);
  if (scheme === 'https' || scheme === 'http') {
    // WHATWG URLs forgive `https:host/path`; what is registered must be what a client sends.
    if (!uri.toLowerCase().startsWith(`${scheme}://`) || !url.hostname)
      return `must be an absolute URI, such as https://app.example.com/callback`;
    if (url.username || url.password) return 'must not contain a user name or password';
    if (scheme === 'http' && !LOOPBACK_HOSTS.has(url.hostname) && !policy.allowHttpOnAnyHost)
      return 'must use https (http only on localhost, 127.0.0.1 or [::1])';
    return undefined;
  }
  if (scheme.includes('.')) return undefined;
  return 'must use https, http on localhost, or a private-use scheme with a dot (com.example.app:/callback)';
}

/** A native app's private-use scheme (com.example.app:/callback), rather than http or https. */
export function isPrivateUseScheme(uri: string): boolean {
  return !/^https?:/i.test(uri);
}
