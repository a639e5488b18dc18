import type { TestApp } from './test-app';

interface StoredCookie {
  name: string;
  value: string;
  path: string;
}

/**
 * The sign-in pages as a browser uses them, without a browser: cookies kept (by name and path),
 * forms posted, redirects not followed.
 */
export class PageClient {
  private readonly cookies: StoredCookie[] = [];

  constructor(private readonly app: Pick<TestApp, 'url' | 'sink'>) {}

  /** `target` is a path on the service or an absolute URL on its origin. */
  async send(
    method: string,
    target: string,
    body?: { form?: Record<string, string>; json?: unknown; headers?: Record<string, string> },
  ): Promise<Response> {
    const url = new URL(target, this.app.url);
    if (url.origin !== new URL(this.app.url).origin) throw new Error(`not the service's origin: ${url.href}`);
    const headers: Record<string, string> = { ...body?.headers, cookie: this.cookieHeader(url.pathname) };
    let payload: string | undefined;
    if (body?.form)
      [headers['content-type'], payload] = [
        'application/x-www-form-urlencoded',
        new URLSearchParams(body.form).toString(),
      ];
    if (body?.json) [headers['content-type'], payload] = ['application/json', JSON.stringify(body.json)];
    const response = await fetch(url, { method, headers, body: payload, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) this.store(cookie);
    return response;
  }

  /** Follows the service's redirects; stops at the first answer that is not one, or that leaves for another origin. */
  async follow(target: string): Promise<{ response: Response; location?: string }> {
    let response = await this.send('GET', target);
    for (let hops = 0; hops < 10; hops++) {
      const location = response.headers.get('location');
      if (!location || response.status < 300 || response.status >= 400) return { response };
      const next = new URL(location, this.app.url);
      if (next.origin !== new URL(this.app.url).origin) return { response, location: next.href };
      response = await this.send('GET', next.href);
    }
    throw new Error(`more than 10 redirects from ${target}`);
  }

  /** The CSRF token of the login page's form. */
  async csrf(): Promise<string> {
    return csrfOf(await (await this.send('GET', '/login')).text());
  }

  /** Asks for a code at /login; returns what the code form needs, with the code from the mail. */
  async requestCode(email: string) {
    const _csrf = await this.csrf();
    const before = this.app.sink.messagesTo(email).length;
    const form = await (await this.send('POST', '/login', { form: { _csrf, email } })).text();
    const sessionId = /name="sessionId" value="([^"]+)"/.exec(form)![1];
    return { _csrf, email, sessionId, code: await this.app.sink.codeFor(email, before + 1) };
  }

  /** Signs in at the pages with the code from the mail; returns the answer of POST /verify-otp. */
  async signIn(email: string): Promise<Response> {
    const signedIn = await this.send('POST', '/verify-otp', { form: await this.requestCode(email) });
    if (signedIn.status !== 303 && signedIn.status !== 200) throw new Error(`sign-in failed: ${signedIn.status}`);
    return signedIn;
  }

  private cookieHeader(path: string): string {
    return this.cookies
      .filter(
        (cookie) =>
          path === cookie.path || path.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`),
      )
      .map(({ name, value }) => `${name}=${value}`)
      .join('; ');
  }

  private store(setCookie: string): void {
    const [pair, ...attributes] = setCookie.split(';').map((part) => part.trim());
    const name = pair.slice(0, pair.indexOf('='));
    const value = pair.slice(pair.indexOf('=') + 1);
    const attribute = (key: string) =>
      attributes.find((part) => part.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
    const path = attribute('path') ?? '/';
    const expires = attribute('expires');
    const cleared =
      !value || attribute('max-age') === '0' || (expires !== undefined && Date.parse(expires) <= Date.now());
    const index = this.cookies.findIndex((cookie) => cookie.name === name && cookie.path === path);
    if (index !== -1) this.cookies.splice(index, 1);
    if (!cleared) this.cookies.push({ name, value, path });
  }
}

export function csrfOf(page: string): string {
  return /name="_csrf" value="([^"]+)"/.exec(page)![1];
}
