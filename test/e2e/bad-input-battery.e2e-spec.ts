import { LoggerService } from '@nestjs/common';
import { API_ERROR_STATUS } from '../support/api-contract';
import { requestCode, signIn, uniqueEmail } from '../support/factories';
import {
  forgedJwt,
  jsonObjectText,
  jwtClaims,
  sendWire,
  utf8Bytes,
  WireRequest,
  WireResponse,
} from '../support/malformed';
import { mintServiceToken } from '../support/cli';
import { describeWith } from '../support/services';
import { BACKENDS, startTestApp, TestApp } from '../support/test-app';

/*
 * About two thousand malformed requests per backend: each kind of malformation (a table below)
 * applied to every route it makes sense for, sent as raw bytes so that nothing is tidied on the
 * way. Every answer must be below 500 and free of stacks and SQL; on /api a 4xx must be a problem
 * document with a code from API.md, and /api's own rules (JSON bodies only, no-store) must hold
 * however the path is spelled.
 */

const ADMIN = 'battery-admin@example.com';
const KIB = 1024;
const PREFETCH = 6;
const LEAKS = [
  /\n\s+at .+:\d+:\d+/,
  /node_modules/,
  /QueryFailedError/,
  /SQLITE_/,
  /\bINSERT INTO\b/,
  /\bSELECT\b[\s\S]*\bFROM\b/,
  /value too long for type/,
  /violates .* constraint/,
  /invalid input syntax/,
];

type Fields = Record<string, unknown>;
type Headers = [name: string, value: string][];

interface SignedIn {
  email: string;
  accessToken: string;
  refreshToken: string;
  user: { id: string };
}

/** A browser before signing in. Cookies are "name=value" pairs, as a Cookie header lists them. */
interface Visitor {
  csrfCookie: string;
  /** The token of the forms on its pages. */
  csrfToken: string;
}

interface Browser extends Visitor {
  email: string;
  sessionCookie: string;
}

/** What the requests of one backend share; filled in beforeAll, read when each case runs. */
interface Context {
  app: TestApp;
  user: SignedIn;
  admin: SignedIn;
  /** A user whose audit events the export cases read. */
  exportedUserId: string;
  serviceToken: string;
  visitor: Visitor;
  /** Signed in through the pages; no case ends its session. */
  browser: Browser;
}

/** A well-formed request to a route, which a case then malforms in one way. */
interface Base {
  path: string;
  headers: Headers;
  fields?: Fields;
}

interface Route {
  method: string;
  path: string;
  body: 'json' | 'form' | 'none';
  /** The fields whose values the field table replaces. */
  malformable?: string[];
  /** The status of the well-formed request, where it is not a 2xx. */
  answers?: number;
  base(context: Context): Promise<Base>;
}

const bearer = (token: string): [string, string] => ['Authorization', `Bearer ${token}`];
const cookies = (...pairs: string[]): [string, string] => ['Cookie', pairs.join('; ')];
const sessionCookieName = (context: Context) => context.browser.sessionCookie.split('=')[0];

async function page(
  app: TestApp,
  method: string,
  path: string,
  cookie: string,
  form?: Record<string, string>,
): Promise<{ status: number; html: string; cookies: string[] }> {
  const response = await fetch(app.url + path, {
    method,
    redirect: 'manual',
    headers: { cookie, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  return {
    status: response.status,
    html: await response.text(),
    cookies: response.headers.getSetCookie().map((setCookie) => setCookie.split(';')[0]),
  };
}

/** The value of a form's hidden input. */
const formToken = (html: string, name: string) =>
  [...html.matchAll(/name="([^"]+)" value="([^"]*)"/g)].find((match) => match[1] === name)?.[2];

async function visit(app: TestApp): Promise<Visitor> {
  const login = await page(app, 'GET', '/login', '');
  const csrfToken = formToken(login.html, '_csrf');
  if (login.cookies.length !== 1 || !csrfToken) throw new Error('no CSRF cookie or token on /login');
  return { csrfCookie: login.cookies[0], csrfToken };
}

/** Signs in as a person does: /login, the code from the mail, /verify-otp; a sign-in renews the CSRF secret, so the token is read off the dashboard. */
async function browserSignIn(app: TestApp, email = uniqueEmail('browser')): Promise<Browser> {
  const { csrfCookie, csrfToken } = await visit(app);
  const before = app.sink.messagesTo(email).length;
  const codePage = await page(app, 'POST', '/login', csrfCookie, { email, _csrf: csrfToken });
  const code = await app.sink.codeFor(email, before + 1);
  const signedIn = await page(app, 'POST', '/verify-otp', csrfCookie, {
    email,
    sessionId: formToken(codePage.html, 'sessionId') ?? '',
    code,
    _csrf: csrfToken,
  });
  const isCsrfCookie = (pair: string) => pair.startsWith(`${csrfCookie.split('=')[0]}=`);
  const sessionCookie = signedIn.cookies.find((pair) => !isCsrfCookie(pair));
  const renewedCsrfCookie = signedIn.cookies.find(isCsrfCookie) ?? csrfCookie;
  if (signedIn.status !== 303 || !sessionCookie) throw new Error(`page sign-in failed: ${signedIn.status}`);
  const dashboard = await page(app, 'GET', '/dashboard', `${sessionCookie}; ${renewedCsrfCookie}`);
  const renewedCsrfToken = formToken(dashboard.html, '_csrf');
  if (!renewedCsrfToken) throw new Error('no CSRF token on the dashboard');
  return { email, sessionCookie, csrfCookie: renewedCsrfCookie, csrfToken: renewedCsrfToken };
}

const browserHeaders = (browser: Browser) => [cookies(browser.sessionCookie, browser.csrfCookie)];
const staticPage = (path: string, answers?: number): Route => ({
  method: 'GET',
  path,
  body: 'none',
  answers,
  base: async () => ({ path, headers: [] }),
});

/** An OpenID Connect client as an admin registers it, every optional field given. */
const BATTERY_CLIENT = {
  name: 'Battery app',
  redirect_uris: ['https://app.example.com/callback'],
  post_logout_redirect_uris: ['https://app.example.com/'],
  public: false,
  id_token_signed_response_alg: 'ES256',
};

const ROUTES: Route[] = [
  {
    method: 'POST',
    path: '/api/v1/auth/otp',
    body: 'json',
    malformable: ['email'],
    base: async () => ({ path: '/api/v1/auth/otp', headers: [], fields: { email: uniqueEmail('battery') } }),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/otp/resend',
    body: 'json',
    malformable: ['sessionId'],
    base: async ({ app }) => ({
      path: '/api/v1/auth/otp/resend',
      headers: [],
      fields: { sessionId: (await requestCode(app, uniqueEmail('battery'))).sessionId },
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/otp/verify',
    body: 'json',
    malformable: ['sessionId', 'code'],
    base: async ({ app }) => {
      const { sessionId, code } = await requestCode(app, uniqueEmail('battery'));
      return { path: '/api/v1/auth/otp/verify', headers: [], fields: { sessionId, code } };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/auth/refresh',
    body: 'json',
    malformable: ['refreshToken'],
    base: async ({ app }) => ({
      path: '/api/v1/auth/refresh',
      headers: [],
      fields: { refreshToken: (await signIn(app)).refreshToken },
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/logout',
    body: 'none',
    base: async ({ app }) => ({ path: '/api/v1/auth/logout', headers: [bearer((await signIn(app)).accessToken)] }),
  },
  {
    method: 'GET',
    path: '/api/v1/auth/sessions',
    body: 'none',
    base: async ({ user }) => ({ path: '/api/v1/auth/sessions', headers: [bearer(user.accessToken)] }),
  },
  {
    method: 'DELETE',
    path: '/api/v1/auth/sessions/:id',
    body: 'none',
    base: async ({ app }) => {
      const { accessToken } = await signIn(app);
      return { path: `/api/v1/auth/sessions/${jwtClaims(accessToken).sid}`, headers: [bearer(accessToken)] };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/auth/introspect',
    body: 'json',
    malformable: ['token', 'token_type_hint'],
    base: async ({ user, serviceToken }) => ({
      path: '/api/v1/auth/introspect',
      headers: [bearer(serviceToken)],
      fields: { token: user.accessToken, token_type_hint: 'access_token' },
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/users/me',
    body: 'none',
    base: async ({ user }) => ({ path: '/api/v1/users/me', headers: [bearer(user.accessToken)] }),
  },
  {
    method: 'PATCH',
    path: '/api/v1/users/me',
    body: 'json',
    malformable: ['name', 'lastSubmittedFormData'],
    base: async ({ user }) => ({
      path: '/api/v1/users/me',
      headers: [bearer(user.accessToken)],
      fields: { name: 'Battery Tester', lastSubmittedFormData: { plan: 'basic' } },
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/admin/audit',
    body: 'none',
    base: async ({ admin }) => ({ path: '/api/v1/admin/audit?limit=5', headers: [bearer(admin.accessToken)] }),
  },
  {
    method: 'GET',
    path: '/api/v1/admin/audit/export',
    body: 'none',
    base: async ({ admin, exportedUserId }) => ({
      path: `/api/v1/admin/audit/export?userId=${exportedUserId}`,
      headers: [bearer(admin.accessToken)],
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/admin/users',
    body: 'none',
    base: async ({ admin }) => ({ path: '/api/v1/admin/users?limit=5', headers: [bearer(admin.accessToken)] }),
  },
  {
    method: 'POST',
    path: '/api/v1/admin/users/:id/revoke-sessions',
    body: 'none',
    base: async ({ app, admin }) => ({
      path: `/api/v1/admin/users/${(await signIn(app)).user.id}/revoke-sessions`,
      headers: [bearer(admin.accessToken)],
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/admin/clients',
    body: 'json',
    malformable: ['name', 'redirect_uris', 'post_logout_redirect_uris', 'public', 'id_token_signed_response_alg'],
    base: async ({ admin }) => ({
      path: '/api/v1/admin/clients',
      headers: [bearer(admin.accessToken)],
      fields: { ...BATTERY_CLIENT },
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/admin/clients',
    body: 'none',
    base: async ({ admin }) => ({ path: '/api/v1/admin/clients', headers: [bearer(admin.accessToken)] }),
  },
  {
    method: 'DELETE',
    path: '/api/v1/admin/clients/:id',
    body: 'none',
    base: async ({ app, admin }) => {
      const registered = await app.request('POST', '/api/v1/admin/clients', {
        json: BATTERY_CLIENT,
        headers: { authorization: `Bearer ${admin.accessToken}` },
      });
      return { path: `/api/v1/admin/clients/${registered.body.client_id}`, headers: [bearer(admin.accessToken)] };
    },
  },
  ...[
    '/.well-known/jwks.json',
    '/health/live',
    '/health/ready',
    '/metrics',
    '/docs',
    '/docs/openapi.json',
    '/assets/app.css',
    '/assets/app.js',
    '/login',
  ].map((path) => staticPage(path)),
  staticPage('/dev/outbox', 404), // absent outside development
  {
    method: 'GET',
    path: '/',
    body: 'none',
    answers: 303,
    base: async ({ browser }) => ({ path: '/', headers: browserHeaders(browser) }),
  },
  {
    method: 'POST',
    path: '/login',
    body: 'form',
    malformable: ['email'],
    base: async ({ visitor }) => ({
      path: '/login',
      headers: [cookies(visitor.csrfCookie)],
      fields: { email: uniqueEmail('battery'), _csrf: visitor.csrfToken },
    }),
  },
  {
    method: 'POST',
    path: '/login/resend',
    body: 'form',
    malformable: ['sessionId', 'email'],
    base: async ({ app, visitor }) => {
      const email = uniqueEmail('battery');
      return {
        path: '/login/resend',
        headers: [cookies(visitor.csrfCookie)],
        fields: { email, sessionId: (await requestCode(app, email)).sessionId, _csrf: visitor.csrfToken },
      };
    },
  },
  ...['/verify-otp', '/login/link'].map((path): Route => ({
    method: 'POST',
    path,
    body: 'form',
    malformable: ['sessionId', 'code'],
    answers: 303,
    base: async ({ app, visitor }) => {
      const email = uniqueEmail('battery');
      const { sessionId, code } = await requestCode(app, email);
      return {
        path,
        headers: [cookies(visitor.csrfCookie)],
        fields: { email, sessionId, code, _csrf: visitor.csrfToken },
      };
    },
  })),
  {
    method: 'GET',
    path: '/login/link',
    body: 'none',
    base: async () => ({ path: '/login/link?session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&code=123456', headers: [] }),
  },
  {
    method: 'GET',
    path: '/dashboard',
    body: 'none',
    base: async ({ browser }) => ({ path: '/dashboard', headers: browserHeaders(browser) }),
  },
  {
    method: 'POST',
    path: '/sessions/revoke-others',
    body: 'form',
    malformable: ['_csrf'],
    answers: 303,
    base: async ({ app }) => {
      const browser = await browserSignIn(app);
      await signIn(app, browser.email); // the other session, for this request to revoke
      return {
        path: '/sessions/revoke-others',
        headers: browserHeaders(browser),
        fields: { _csrf: browser.csrfToken },
      };
    },
  },
  {
    method: 'POST',
    path: '/logout',
    body: 'form',
    malformable: ['_csrf'],
    answers: 303,
    base: async ({ app }) => {
      const browser = await browserSignIn(app);
      return { path: '/logout', headers: browserHeaders(browser), fields: { _csrf: browser.csrfToken } };
    },
  },
  {
    method: 'GET',
    path: '/logout',
    body: 'none',
    answers: 303,
    base: async ({ app }) => ({
      path: '/logout',
      headers: [...browserHeaders(await browserSignIn(app)), ['Sec-Fetch-Site', 'same-origin']],
    }),
  },
];

const routeName = (route: Route) => `${route.method} ${route.path}`;
const isApiPath = (path: string) => path.startsWith('/api/');

// ---- how a case is put on the wire ------------------------------------------------------------

/** One malformed request; `build` turns the route's well-formed request into it. */
interface Case {
  title: string;
  route: Route;
  build(base: Base, context: Context): WireRequest;
  /** The body is not JSON: an /api route must refuse it with 415 (API.md: request bodies are application/json). */
  nonJsonBody?: boolean;
  /** The request cannot complete (a body shorter than its Content-Length): no answer is a fine answer. */
  mayGoUnanswered?: boolean;
  /** The one status API.md allows, where it names one. */
  status?: number;
}

/** A body as sent: `contentType: null` sends no Content-Type at all. */
interface Payload {
  contentType: string | null;
  bytes: Buffer;
}

const payload = (text: string | Buffer, contentType: string | null = 'application/json'): Payload => ({
  contentType,
  bytes: Buffer.isBuffer(text) ? text : Buffer.from(text),
});
const form = (bytes: Buffer): Payload => ({ contentType: 'application/x-www-form-urlencoded', bytes });

function wire(route: Route, base: Base, body?: Payload): WireRequest {
  const headers: Headers = [...base.headers];
  if (body?.contentType) headers.push(['Content-Type', body.contentType]);
  return { method: route.method, path: base.path, headers, body: body?.bytes };
}

/** The route's well-formed body, in its own encoding. */
function encodedBody(route: Route, fields: Fields | undefined): Payload | undefined {
  if (route.body === 'none' || !fields) return undefined;
  if (route.body === 'form') return form(Buffer.from(new URLSearchParams(fields as Record<string, string>).toString()));
  return payload(JSON.stringify(fields));
}

const asIs = (route: Route, base: Base) => wire(route, base, encodedBody(route, base.fields));

// ---- malformed field values (JSON, so that any type can be sent; the pages take JSON bodies too) ----

/** Puts a malformed string where the valid value was: in the string itself, or as a key and a value of the object. */
function embed(valid: unknown, alter: (text: string) => string): string {
  if (typeof valid === 'string') return JSON.stringify(alter(valid));
  return JSON.stringify({ ...(valid as object), [alter('key')]: alter('value') });
}
const inside = (insert: string) => (text: string) => `${text.slice(0, 1)}${insert}${text.slice(1)}`;

const FIELD_VALUES: { title: string; text: (valid: unknown) => string | undefined }[] = [
  { title: 'missing', text: () => undefined },
  { title: 'a number', text: () => '42' },
  { title: 'negative zero', text: () => '-0' },
  { title: '1e309 (beyond a double)', text: () => '1e309' },
  { title: 'a 30-digit integer', text: () => '123456789012345678901234567890' },
  { title: 'a boolean', text: () => 'true' },
  { title: 'null', text: () => 'null' },
  { title: 'an array holding the valid value', text: (valid) => `[${JSON.stringify(valid)}]` },
  { title: 'an operator object ({"$ne": null})', text: () => '{"$ne":null}' },
  { title: 'an empty string', text: () => '""' },
  { title: 'a lone high surrogate alone', text: () => '"\\ud800"' },
  { title: 'a lone high surrogate inside the valid value', text: (valid) => embed(valid, inside('\ud800')) },
  { title: 'a lone low surrogate after the valid value', text: (valid) => embed(valid, (text) => `${text}\udfff`) },
  { title: 'a NUL inside the valid value', text: (valid) => embed(valid, inside('\u0000')) },
  {
    title: 'C0 controls (BEL, ESC, CR LF) inside the valid value',
    text: (valid) => embed(valid, inside('\u0007\u001b\r\n')),
  },
  { title: 'a C1 control (NEL) inside the valid value', text: (valid) => embed(valid, inside('\u0085')) },
  {
    title: 'a right-to-left override before the valid value',
    text: (valid) => embed(valid, (text) => `\u202e${text}`),
  },
  {
    title: 'zero-width characters and a BOM inside the valid value',
    text: (valid) => embed(valid, inside('\u200b\u200d\ufeff')),
  },
  { title: '200 astral-plane emoji', text: (valid) => embed(valid, () => '\u{1F600}'.repeat(200)) },
  { title: 'a 15 KiB string', text: (valid) => embed(valid, () => 'x'.repeat(15 * KIB)) },
  { title: 'SQL text after the valid value', text: (valid) => embed(valid, (text) => `${text}' OR '1'='1' --`) },
];

const fieldCases: Case[] = ROUTES.flatMap((route) =>
  (route.malformable ?? []).flatMap((field) =>
    FIELD_VALUES.map((kind): Case => ({
      title: `${field}: ${kind.title}`,
      route,
      build: (base) => {
        const fields = base.fields ?? {};
        const replaced = kind.text(fields[field]);
        const members = Object.entries(fields)
          .filter(([key]) => key !== field)
          .map(([key, value]): [string, string] => [key, JSON.stringify(value)]);
        if (replaced !== undefined) members.unshift([field, replaced]);
        return wire(route, base, payload(jsonObjectText(members)));
      },
    })),
  ),
);

// ---- malformed bodies -------------------------------------------------------------------------

const firstField = (fields: Fields) => Object.keys(fields).find((key) => key !== '_csrf') ?? '_csrf';
const validJson = (base: Base) => JSON.stringify(base.fields ?? {});
/** The valid JSON with raw bytes put at the start of the first field's string. */
function withBytesInFirstField(base: Base, bytes: number[]): Buffer {
  const fields = base.fields ?? {};
  const field = firstField(fields);
  const rest = Object.entries(fields).filter(([key]) => key !== field);
  const tail = jsonObjectText([
    ['x', JSON.stringify(typeof fields[field] === 'string' ? fields[field] : '')],
    ...rest.map(([key, value]): [string, string] => [key, JSON.stringify(value)]),
  ]).slice(`{"x":"`.length);
  return Buffer.concat([Buffer.from(`{${JSON.stringify(field)}:"`), Buffer.from(bytes), Buffer.from(tail)]);
}
const nested = (open: string, close: string, depth: number) => open.repeat(depth) + '1' + close.repeat(depth);

interface BodyShape {
  title: string;
  body: (base: Base) => Payload;
  /** What else about the request is wrong, beyond its body. */
  framing?: (request: WireRequest, bytes: Buffer) => WireRequest;
  nonJsonBody?: boolean;
  mayGoUnanswered?: boolean;
  formOnly?: boolean;
}

/** The well-formed form with the first field's value replaced by raw text. */
const formWithFirstField = (base: Base, replaceFirst: string) => {
  const fields = { ...(base.fields ?? {}) } as Record<string, string>;
  const field = firstField(fields);
  delete fields[field];
  const rest = new URLSearchParams(fields).toString();
  return Buffer.from(`${field}=${replaceFirst}${rest ? `&${rest}` : ''}`);
};

const BODY_SHAPES: BodyShape[] = [
  { title: 'an unknown extra member', body: (base) => payload(JSON.stringify({ ...base.fields, isAdmin: true })) },
  {
    title: 'a __proto__ member',
    body: (base) => payload(`{"__proto__":{"isAdmin":true,"roles":["admin"]},${validJson(base).slice(1)}`),
  },
  {
    title: 'a constructor.prototype member',
    body: (base) => payload(JSON.stringify({ ...base.fields, constructor: { prototype: { isAdmin: true } } })),
  },
  { title: 'no members at all', body: () => payload('{}') },
  {
    title: '10,000 nested arrays in an extra member',
    body: (base) => payload(`{"deep":${nested('[', ']', 10_000)},${validJson(base).slice(1)}`),
  },
  {
    title: '3,000 nested objects as the first field',
    body: (base) => payload(`{${JSON.stringify(firstField(base.fields ?? {}))}:${nested('{"a":', '}', 3000)}}`),
  },
  {
    title: 'the first field twice, valid then an object',
    body: (base) =>
      payload(`${validJson(base).slice(0, -1)},${JSON.stringify(firstField(base.fields ?? {}))}:{"$gt":""}}`),
  },
  {
    title: 'the first field twice, an object then valid',
    body: (base) => payload(`{${JSON.stringify(firstField(base.fields ?? {}))}:{"$gt":""},${validJson(base).slice(1)}`),
  },
  {
    title: 'JSON cut off in the middle',
    body: (base) => payload(validJson(base).slice(0, Math.ceil(validJson(base).length / 2))),
  },
  {
    title: 'JSON with a comment and a trailing comma',
    body: (base) => payload(`/* hi */${validJson(base).slice(0, -1)},}`),
  },
  {
    title: 'overlong UTF-8 (C0 AF) in the first field',
    body: (base) => payload(withBytesInFirstField(base, [0xc0, 0xaf])),
  },
  {
    title: 'invalid UTF-8 bytes (FF FE) in the first field',
    body: (base) => payload(withBytesInFirstField(base, [0xff, 0xfe])),
  },
  {
    title: 'a UTF-8-encoded lone surrogate (ED A0 80) in the first field',
    body: (base) => payload(withBytesInFirstField(base, [0xed, 0xa0, 0x80])),
  },
  {
    title: 'a truncated UTF-8 sequence (E2 82) in the first field',
    body: (base) => payload(withBytesInFirstField(base, [0xe2, 0x82])),
  },
  {
    title: 'a UTF-8 byte order mark before the JSON',
    body: (base) => payload(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(validJson(base))])),
  },
  {
    title: 'UTF-16LE JSON labelled charset=utf-16le',
    body: (base) => payload(Buffer.from(validJson(base), 'utf16le'), 'application/json; charset=utf-16le'),
  },
  {
    title: 'latin1 bytes labelled charset=iso-8859-1',
    body: (base) => payload(withBytesInFirstField(base, [0xe9, 0xfc]), 'application/json; charset=iso-8859-1'),
  },
  {
    title: 'a content type with junk parameters',
    body: (base) => payload(validJson(base), 'application/json; charset="\\"; ;; boundary=; =x'),
  },
  {
    title: 'a content type in upper case with spaces',
    body: (base) => payload(validJson(base), 'APPLICATION/JSON ;  CHARSET=UTF-8'),
  },
  {
    title: 'a content type listing two types',
    body: (base) => payload(validJson(base), 'application/json, text/plain'),
  },
  { title: 'application/merge-patch+json', body: (base) => payload(validJson(base), 'application/merge-patch+json') },
  {
    title: 'a 400-character content type',
    body: (base) => payload(validJson(base), `application/json; x=${'y'.repeat(400)}`),
  },
  {
    title: 'JSON labelled application/x-www-form-urlencoded',
    body: (base) => payload(validJson(base), 'application/x-www-form-urlencoded'),
    nonJsonBody: true,
  },
  {
    title: 'JSON labelled text/plain',
    body: (base) => payload(validJson(base), 'text/plain;charset=UTF-8'),
    nonJsonBody: true,
  },
  { title: 'JSON without a content type', body: (base) => payload(validJson(base), null), nonJsonBody: true },
  {
    title: 'a multipart/form-data body',
    body: (base) =>
      payload(
        `--b\r\nContent-Disposition: form-data; name="${firstField(base.fields ?? {})}"\r\n\r\nx\r\n--b--\r\n`,
        'multipart/form-data; boundary=b',
      ),
    nonJsonBody: true,
  },
  {
    title: 'a form body labelled application/json',
    body: (base) => payload(new URLSearchParams(base.fields as Record<string, string>).toString()),
  },
  { title: 'an empty body labelled JSON', body: () => payload('') },
  {
    title: '17 KiB, over the body limit',
    body: (base) => payload(JSON.stringify({ ...base.fields, padding: 'x'.repeat(17 * KIB) })),
  },
  {
    title: 'a Content-Length shorter than the body',
    body: (base) => payload(validJson(base)),
    framing: (request, bytes) => ({ ...request, contentLength: Math.floor(bytes.length / 2) }),
  },
  {
    title: 'a Content-Length longer than the body',
    body: (base) => payload(validJson(base)),
    framing: (request, bytes) => ({ ...request, contentLength: bytes.length + 100 }),
    mayGoUnanswered: true,
  },
  {
    title: 'chunked, split inside a UTF-8 character',
    body: (base) => payload(withBytesInFirstField(base, [0xc3, 0xa9])),
    framing: (request, bytes) => {
      const cut = bytes.indexOf(0xc3) + 1;
      const chunk = (part: Buffer) =>
        Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]);
      const body = Buffer.concat([chunk(bytes.subarray(0, cut)), chunk(bytes.subarray(cut)), Buffer.from('0\r\n\r\n')]);
      return { ...request, headers: [...request.headers, ['Transfer-Encoding', 'chunked']], contentLength: null, body };
    },
  },
  {
    title: 'form: a percent-encoded lone surrogate (%ED%A0%80) in the first field',
    body: (base) => form(formWithFirstField(base, '%ED%A0%80x')),
    formOnly: true,
  },
  {
    title: 'form: an invalid byte (%FF) in the first field',
    body: (base) => form(formWithFirstField(base, '%FFx')),
    formOnly: true,
  },
  {
    title: 'form: broken percent escapes (%zz and a lone %)',
    body: (base) => form(formWithFirstField(base, '%zz%')),
    formOnly: true,
  },
  {
    title: 'form: a NUL (%00) in the first field',
    body: (base) => form(formWithFirstField(base, 'a%00b')),
    formOnly: true,
  },
  {
    title: 'form: the first field repeated',
    body: (base) =>
      form(Buffer.concat([formWithFirstField(base, 'a'), Buffer.from(`&${firstField(base.fields ?? {})}=b`)])),
    formOnly: true,
  },
  {
    title: 'form: bracketed keys',
    body: (base) =>
      form(
        Buffer.concat([
          formWithFirstField(base, 'a'),
          Buffer.from(`&${firstField(base.fields ?? {})}[$ne]=1&__proto__[x]=1`),
        ]),
      ),
    formOnly: true,
  },
  {
    title: 'form: 3,000 empty parameters',
    body: (base) => form(Buffer.concat([formWithFirstField(base, 'a'), Buffer.from('&'.repeat(3000))])),
    formOnly: true,
  },
];

const bodyCases: Case[] = ROUTES.filter((route) => route.body !== 'none').flatMap((route) =>
  BODY_SHAPES.filter((shape) => !shape.formOnly || route.body === 'form').map((shape): Case => ({
    title: `body: ${shape.title}`,
    route,
    nonJsonBody: shape.nonJsonBody || shape.formOnly,
    mayGoUnanswered: shape.mayGoUnanswered,
    build: (base) => {
      const body = shape.body(base);
      const request = wire(route, base, body);
      return shape.framing ? shape.framing(request, body.bytes) : request;
    },
  })),
);

const strayBodyCases: Case[] = ROUTES.filter((route) => route.body === 'none').flatMap((route): Case[] => [
  {
    title: 'a JSON body where none belongs',
    route,
    build: (base) => wire(route, base, payload('{"email":"a@example.com","isAdmin":true}')),
  },
  {
    title: 'a form body where none belongs',
    route,
    nonJsonBody: true,
    build: (base) => wire(route, base, form(Buffer.from('email=a%40example.com&isAdmin=1'))),
  },
]);

// ---- query strings of the admin lists and the pages ---------------------------------------------

const cursorOf = (position: unknown) =>
  Buffer.from(typeof position === 'string' ? position : JSON.stringify(position)).toString('base64url');
const UUID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const routeAt = (path: string, method = 'GET') =>
  ROUTES.find((route) => route.path === path && route.method === method)!;

/** API.md: "A query value out of range or malformed → 400 validation_failed". */
const REFUSED = 400;
/** [title, query, the status API.md requires where it names one] */
type QueryRow = readonly [title: string, query: string, status?: number];

const ADMIN_LIST_QUERIES: QueryRow[] = [
  ['limit=0', 'limit=0', REFUSED],
  ['limit=-1', 'limit=-1', REFUSED],
  ['limit=501', 'limit=501', REFUSED],
  ['limit=1e309', 'limit=1e309', REFUSED],
  ['limit=-0', 'limit=-0', REFUSED],
  ['limit=1.5', 'limit=1.5', REFUSED],
  ['a 20-digit limit', 'limit=99999999999999999999', REFUSED],
  ['limit=0x10', 'limit=0x10', REFUSED],
  ['an empty limit', 'limit='],
  ['limit twice', 'limit=5&limit=6', REFUSED],
  ['limit as a bracketed array', 'limit[]=5', REFUSED],
  ['a cursor that is not base64url JSON', 'cursor=!!!not-a-cursor', REFUSED],
  ['a cursor of 300 characters', `cursor=${'A'.repeat(300)}`, REFUSED],
  ['a cursor holding an empty array', `cursor=${cursorOf([])}`, REFUSED],
  ['a cursor holding an object', `cursor=${cursorOf({ id: 1 })}`, REFUSED],
  ['a cursor holding nulls', `cursor=${cursorOf([null, null])}`, REFUSED],
  ['a cursor holding a lone surrogate', `cursor=${cursorOf('["\\ud800"]')}`, REFUSED],
  ['cursor twice', 'cursor=a&cursor=b', REFUSED],
  ['an unknown parameter', 'isAdmin=true', REFUSED],
  ['prototype-polluting parameters', '__proto__[isAdmin]=1&constructor[prototype][isAdmin]=1'],
  ['a percent-encoded NUL in email', 'email=a%00b', REFUSED],
  ['a percent-encoded lone surrogate (%ED%A0%80) in email', 'email=%ED%A0%80%40example.com'],
  ['raw UTF-8 lone-surrogate bytes in email', `email=${'\xed\xa0\x80'}%40example.com`],
  ['a %uD800 escape in email', 'email=%uD800%40example.com'],
  ['an invalid byte (%FF) in email', 'email=%FF'],
  ['LIKE wildcards in email', 'email=%25_%5C'],
  ['a right-to-left override in email', 'email=%E2%80%AEmoc.elpmaxe%40a'],
  ['a 300-character email', `email=${'a'.repeat(290)}%40example.com`, REFUSED],
  ['email as an array', 'email=a&email=b', REFUSED],
];

const AUDIT_QUERIES: QueryRow[] = [
  ['an audit cursor id one above the bigint maximum', `cursor=${cursorOf(['9223372036854775808'])}`, REFUSED],
  ['a 20-digit audit cursor id', `cursor=${cursorOf(['99999999999999999999'])}`, REFUSED],
  ['an audit cursor id of zero', `cursor=${cursorOf(['0'])}`],
  ['a negative audit cursor id', `cursor=${cursorOf(['-1'])}`, REFUSED],
  ['a fractional audit cursor id', `cursor=${cursorOf(['1.5'])}`, REFUSED],
  ['an audit cursor id as a JSON number', `cursor=${cursorOf([1e308])}`, REFUSED],
  ['an audit cursor id in exponent form', `cursor=${cursorOf(['1e5'])}`, REFUSED],
  ['since=-9999-01-01T00:00:00Z', 'since=-9999-01-01T00:00:00Z', REFUSED],
  ['since at the end of JavaScript time (+275760)', 'since=%2B275760-09-13T00:00:00Z'],
  ['until beyond JavaScript time (+275761)', 'until=%2B275761-01-01T00:00:00Z', REFUSED],
  ['since=0000-01-01T00:00:00Z', 'since=0000-01-01T00:00:00Z'],
  ['since on 30 February', 'since=2020-02-30T00:00:00Z', REFUSED],
  ['since in month 13', 'since=2020-13-01T00:00:00Z', REFUSED],
  ['until at hour 24', 'until=2020-01-01T24:00:00Z'],
  ['until with a +99:00 offset', 'until=2020-01-01T00:00:00%2B99:00', REFUSED],
  ['since=1e309', 'since=1e309', REFUSED],
  ['since after until', 'since=2030-01-01T00:00:00Z&until=2020-01-01T00:00:00Z'],
  ['userId that is not a UUID', 'userId=not-a-uuid', REFUSED],
  ['userId with a NUL', `userId=${UUID}%00`, REFUSED],
  ['userId in braces', `userId=%7B${UUID}%7D`, REFUSED],
  ['the nil UUID as userId', 'userId=00000000-0000-0000-0000-000000000000'],
  ['an unknown event type', 'type=otp.exploded', REFUSED],
  ['type as an array', 'type=otp.sent&type=otp.verified'],
];

const EXPORT_QUERIES: QueryRow[] = [
  ['since=-9999-01-01T00:00:00Z', 'since=-9999-01-01T00:00:00Z', REFUSED],
  ['until on 30 February', 'until=2021-02-30T00:00:00Z', REFUSED],
  ['userId that is not a UUID', 'userId=%27%20OR%201%3D1--', REFUSED],
  ['a lone-surrogate email (%ED%A0%80)', 'email=%ED%A0%80%40example.com'],
  ['a limit, which export does not take', 'limit=1', REFUSED],
];

const USERS_QUERIES: QueryRow[] = [
  ['a users cursor with a non-UUID id', `cursor=${cursorOf(['2020-01-01T00:00:00.000Z', 'not-a-uuid'])}`, REFUSED],
  [
    'a users cursor with 36 non-hex characters',
    `cursor=${cursorOf(['2020-01-01T00:00:00.000Z', 'z'.repeat(36)])}`,
    REFUSED,
  ],
  ['a users cursor on 30 February', `cursor=${cursorOf(['2020-02-30T00:00:00.000Z', UUID])}`, REFUSED],
  ['a users cursor in year -271821', `cursor=${cursorOf(['-271821-04-20T00:00:00.000Z', UUID])}`, REFUSED],
  ['a users cursor with an RFC 2822 date', `cursor=${cursorOf(['Tue, 01 Jan 2030 00:00:00 GMT', UUID])}`, REFUSED],
  ['a users cursor with a bare number as date', `cursor=${cursorOf(['1', UUID])}`, REFUSED],
  ['a users cursor with a numeric date', `cursor=${cursorOf([0, UUID])}`, REFUSED],
  ['a users cursor with an empty id', `cursor=${cursorOf(['2020-01-01T00:00:00.000Z', ''])}`, REFUSED],
];

const LINK_QUERIES: QueryRow[] = [
  ['session as an array', 'session=a&session=b&code=123456'],
  ['session with bracketed keys', 'session[$ne]=1&code=123456'],
  ['a percent-encoded lone surrogate in the code', 'session=abc&code=%ED%A0%80'],
  ['a NUL in the session', 'session=a%00b&code=123456'],
  ['markup in the session', 'session=%22%3E%3Cscript%3Ealert(1)%3C/script%3E&code=123456'],
  ['4 KiB values', `session=${'s'.repeat(2048)}&code=${'1'.repeat(2048)}`],
  ['no parameters', ''],
];

const HOSTILE_QUERY: QueryRow = ['a hostile query string', 'a=%ED%A0%80&b[c][d]=1&__proto__[x]=1&e=%00&f=%zz'];

const QUERIES: [Route, QueryRow][] = [
  ...ADMIN_LIST_QUERIES.flatMap((row): [Route, QueryRow][] => [
    [routeAt('/api/v1/admin/audit'), row],
    [routeAt('/api/v1/admin/users'), row],
  ]),
  ...AUDIT_QUERIES.map((row): [Route, QueryRow] => [routeAt('/api/v1/admin/audit'), row]),
  ...EXPORT_QUERIES.map((row): [Route, QueryRow] => [routeAt('/api/v1/admin/audit/export'), row]),
  ...USERS_QUERIES.map((row): [Route, QueryRow] => [routeAt('/api/v1/admin/users'), row]),
  ...LINK_QUERIES.map((row): [Route, QueryRow] => [routeAt('/login/link'), row]),
  ...ROUTES.filter(
    (route) => route.method === 'GET' && !route.path.includes('admin') && route.path !== '/login/link',
  ).map((route): [Route, QueryRow] => [route, HOSTILE_QUERY]),
];

const queryCases: Case[] = QUERIES.map(([route, [title, query, status]]) => ({
  title: `query: ${title}`,
  route,
  status,
  build: (base) => {
    const [path, given] = base.path.split('?');
    const keep = new URLSearchParams(given ?? '');
    for (const name of ['limit', 'userId']) if (new RegExp(`(^|&)${name}[=[]`).test(query)) keep.delete(name);
    const merged = [keep.toString(), query].filter(Boolean).join('&');
    return { ...asIs(route, base), path: merged ? `${path}?${merged}` : path };
  },
}));

// ---- path parameters ---------------------------------------------------------------------------

const BAD_IDS: [title: string, id: string][] = [
  ['not a UUID', 'not-a-uuid'],
  ['the nil UUID', '00000000-0000-0000-0000-000000000000'],
  ['the all-f UUID', 'ffffffff-ffff-ffff-ffff-ffffffffffff'],
  ['an upper-case UUID', UUID.toUpperCase()],
  ['a UUID in braces', `%7B${UUID}%7D`],
  ['a UUID with a NUL after it', `${UUID}%00`],
  ['a UUID without dashes', UUID.replace(/-/g, '')],
  ['36 non-hex characters', 'g'.repeat(36)],
  ['a percent-encoded lone surrogate', '%ED%A0%80'],
  ['SQL text', '%27%3B%20DROP%20TABLE%20sessions%3B%20--'],
  ['a number', '1e309'],
  ['201 characters (over the router limit)', 'a'.repeat(201)],
  ['an encoded path traversal', '..%2F..%2Fhealth%2Flive'],
  ['an encoded dot-dot', '%2e%2e'],
];

const paramCases: Case[] = ROUTES.filter((route) => route.path.includes(':id')).flatMap((route) =>
  BAD_IDS.map(([title, id]): Case => ({
    title: `id: ${title}`,
    route,
    build: (base) => ({ ...asIs(route, base), path: route.path.replace(':id', id) }),
  })),
);

// ---- other spellings of each path --------------------------------------------------------------

const PATH_VARIANTS: { title: string; spell: (path: string) => string; apiOnly?: boolean }[] = [
  { title: '/%61pi for /api', spell: (path) => path.replace(/^\/api\//, '/%61pi/'), apiOnly: true },
  {
    title: 'the last segment’s first letter percent-encoded',
    spell: (path) =>
      path.replace(
        /\/([a-z])([^/?]*)(\?.*)?$/i,
        (_m, first: string, rest: string, query = '') => `/%${first.charCodeAt(0).toString(16)}${rest}${query}`,
      ),
  },
  { title: 'a doubled leading slash', spell: (path) => `/${path}` },
  { title: 'a doubled inner slash', spell: (path) => path.replace(/^(\/[^/?]+)\//, '$1//') },
  { title: 'a trailing slash', spell: (path) => path.replace(/^([^?]*?)\/?(\?|$)/, '$1/$2') },
  { title: 'a /./ segment', spell: (path) => path.replace(/^(\/[^/?]+)\//, '$1/./') },
  { title: 'a /x/../ segment', spell: (path) => path.replace(/^(\/[^/?]+)\//, '$1/x/../') },
  { title: '%2F for a slash', spell: (path) => path.replace(/^(\/[^/?]+)\//, '$1%2F') },
  { title: 'upper case', spell: (path) => path.replace(/^[^?]*/, (part) => part.toUpperCase()) },
  { title: 'a ;matrix parameter', spell: (path) => path.replace(/^([^?]*)/, '$1;jsessionid=x') },
  { title: 'a trailing %20', spell: (path) => path.replace(/^([^?]*)/, '$1%20') },
];

const pathCases: Case[] = ROUTES.flatMap((route) =>
  PATH_VARIANTS.filter(
    (variant) => (!variant.apiOnly || isApiPath(route.path)) && variant.spell(route.path) !== route.path,
  ).map((variant): Case => ({
    title: `path: ${variant.title}`,
    route,
    build: (base) => ({ ...asIs(route, base), path: variant.spell(base.path) }),
  })),
);
/** The reviewer's bypass: the API reached as /%61pi with a form body must still be refused. */
const spelledFormCases: Case[] = ROUTES.filter((route) => isApiPath(route.path) && route.body === 'json').map(
  (route) => ({
    title: 'path: /%61pi for /api, with a form body',
    route,
    nonJsonBody: true,
    build: (base) => ({
      ...wire(route, base, form(Buffer.from(new URLSearchParams(base.fields as Record<string, string>).toString()))),
      path: base.path.replace(/^\/api\//, '/%61pi/'),
    }),
  }),
);

// ---- headers -----------------------------------------------------------------------------------

const latin1Bytes = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => String.fromCharCode(from + i)).join('');
const withHeader =
  (name: string, value: string) =>
  (headers: Headers): Headers => [
    ...headers.filter(([given]) => given.toLowerCase() !== name.toLowerCase()),
    [name, value],
  ];
const appendCookie =
  (pair: string) =>
  (headers: Headers): Headers => {
    const cookie = headers.find(([name]) => name === 'Cookie')?.[1];
    return withHeader('Cookie', cookie ? `${cookie}; ${pair}` : pair)(headers);
  };

interface HeaderCase {
  title: string;
  appliesTo: (route: Route) => boolean;
  headers: (headers: Headers, context: Context) => Headers;
}

const everyRoute = () => true;
const pages = (route: Route) =>
  !isApiPath(route.path) &&
  [
    '/',
    '/login',
    '/dashboard',
    '/logout',
    '/sessions/revoke-others',
    '/verify-otp',
    '/login/link',
    '/login/resend',
  ].includes(route.path);
const api = (route: Route) => isApiPath(route.path);

const HEADER_CASES: HeaderCase[] = [
  { title: 'User-Agent of 90 tabs', appliesTo: everyRoute, headers: withHeader('User-Agent', `x${'\t'.repeat(90)}x`) },
  {
    title: 'User-Agent of C1 control bytes',
    appliesTo: everyRoute,
    headers: withHeader('User-Agent', `Mozilla${'\x85\x9b\x9f'.repeat(40)}`),
  },
  {
    title: 'User-Agent of 600 raw bytes 0x80–0xFF',
    appliesTo: everyRoute,
    headers: withHeader('User-Agent', latin1Bytes(0x80, 0xff).repeat(5).slice(0, 600)),
  },
  {
    title: 'User-Agent of 8 KiB',
    appliesTo: everyRoute,
    headers: withHeader('User-Agent', 'Mozilla/5.0 '.repeat(700)),
  },
  {
    title: 'User-Agent with a UTF-8 right-to-left override and emoji',
    appliesTo: everyRoute,
    headers: withHeader('User-Agent', utf8Bytes('Mozilla \u202e\u{1F600} gpj.exe')),
  },
  { title: 'an empty User-Agent', appliesTo: everyRoute, headers: withHeader('User-Agent', '') },
  { title: 'X-Forwarded-For: a word', appliesTo: everyRoute, headers: withHeader('X-Forwarded-For', 'localhost') },
  {
    title: 'X-Forwarded-For: 100 characters',
    appliesTo: everyRoute,
    headers: withHeader('X-Forwarded-For', 'x'.repeat(100)),
  },
  {
    title: 'X-Forwarded-For: a chain ending in junk',
    appliesTo: everyRoute,
    headers: withHeader('X-Forwarded-For', '203.0.113.7, ::1, <script>'),
  },
  {
    title: 'X-Forwarded-For: an IPv6 address with a long zone',
    appliesTo: everyRoute,
    headers: withHeader('X-Forwarded-For', `fe80::1%${'eth0'.repeat(12)}`),
  },
  {
    title: 'X-Forwarded-For: 999.999.999.999',
    appliesTo: everyRoute,
    headers: withHeader('X-Forwarded-For', '999.999.999.999'),
  },
  { title: 'X-Forwarded-For: empty', appliesTo: everyRoute, headers: withHeader('X-Forwarded-For', '') },
  {
    title: 'X-Forwarded-For: raw bytes 0x80–0xFF',
    appliesTo: everyRoute,
    headers: withHeader('X-Forwarded-For', latin1Bytes(0xa0, 0xff)),
  },
  {
    title: 'X-Request-Id of 1,000 characters',
    appliesTo: everyRoute,
    headers: withHeader('X-Request-Id', 'r'.repeat(1000)),
  },
  {
    title: 'X-Request-Id with spaces, quotes and a CRLF-like text',
    appliesTo: everyRoute,
    headers: withHeader('X-Request-Id', 'a b "c" \\r\\n Set-Cookie: x=1'),
  },
  {
    title: 'X-Request-Id of UTF-8 bytes',
    appliesTo: everyRoute,
    headers: withHeader('X-Request-Id', utf8Bytes('\u202e\u{1F600}')),
  },
  {
    title: 'Accept-Language of 4 KiB',
    appliesTo: everyRoute,
    headers: withHeader('Accept-Language', 'en-GB;q=0.9, '.repeat(300)),
  },
  {
    title: 'Accept-Language with junk q-values',
    appliesTo: everyRoute,
    headers: withHeader('Accept-Language', '*;q=abc, en;q=-1, de;q=1e309, ;;;, -'),
  },
  {
    title: 'Accept-Language of raw bytes',
    appliesTo: everyRoute,
    headers: withHeader('Accept-Language', latin1Bytes(0x80, 0xbf)),
  },
  { title: 'Cookie: a junk string', appliesTo: pages, headers: withHeader('Cookie', '=;;; a=b=c; ;=; \xff\xfe') },
  {
    title: 'Cookie: a session with a broken percent-encoding',
    appliesTo: pages,
    headers: (headers, context) => appendCookie(`${sessionCookieName(context)}=%ZZ%`)(headers),
  },
  {
    title: 'Cookie: two session cookies',
    appliesTo: pages,
    headers: (headers, context) => appendCookie(`${sessionCookieName(context)}=junk`)(headers),
  },
  {
    title: 'Cookie: an access token as the session',
    appliesTo: pages,
    headers: (headers, context) => appendCookie(`${sessionCookieName(context)}=${context.user.accessToken}`)(headers),
  },
  { title: 'Cookie of 6 KiB', appliesTo: pages, headers: appendCookie(`filler=${'c'.repeat(6 * KIB)}`) },
  { title: 'Authorization: Bearer junk', appliesTo: api, headers: withHeader('Authorization', 'Bearer junk') },
  { title: 'Authorization: Bearer and nothing', appliesTo: api, headers: withHeader('Authorization', 'Bearer ') },
  {
    title: 'Authorization: a JWT with alg none',
    appliesTo: api,
    headers: (headers, { admin }) =>
      withHeader(
        'Authorization',
        `Bearer ${forgedJwt({ alg: 'none', typ: 'at+jwt' }, { ...jwtClaims(admin.accessToken), roles: ['admin'] })}`,
      )(headers),
  },
  {
    title: 'Authorization: a JWT with a 6 KiB header',
    appliesTo: api,
    headers: (headers, { user }) =>
      withHeader(
        'Authorization',
        `Bearer ${forgedJwt({ alg: 'ES256', kid: 'k'.repeat(6 * KIB) }, jwtClaims(user.accessToken), 'c2ln')}`,
      )(headers),
  },
  {
    title: 'Authorization: a JWT whose header is not JSON',
    appliesTo: api,
    headers: (headers, { user }) =>
      withHeader('Authorization', `Bearer ${forgedJwt('{"alg":', jwtClaims(user.accessToken), 'c2ln')}`)(headers),
  },
  {
    title: 'Authorization: Basic credentials',
    appliesTo: api,
    headers: withHeader('Authorization', `Basic ${Buffer.from('admin:admin').toString('base64')}`),
  },
  {
    title: 'Authorization: a refresh token as Bearer',
    appliesTo: api,
    headers: (headers, { user }) => withHeader('Authorization', `Bearer ${user.refreshToken}`)(headers),
  },
  {
    title: 'Authorization: twice, junk after the valid one',
    appliesTo: api,
    headers: (headers) => [...headers, ['Authorization', 'Bearer junk']],
  },
  {
    title: 'Authorization: raw bytes after Bearer',
    appliesTo: api,
    headers: withHeader('Authorization', `Bearer ${latin1Bytes(0xa0, 0xff)}`),
  },
];

const headerCases: Case[] = ROUTES.flatMap((route) =>
  HEADER_CASES.filter((kind) => kind.appliesTo(route)).map((kind): Case => ({
    title: `header: ${kind.title}`,
    route,
    build: (base, context) => asIs(route, { ...base, headers: kind.headers(base.headers, context) }),
  })),
);

const CASES: Case[] = [
  ...fieldCases,
  ...bodyCases,
  ...strayBodyCases,
  ...queryCases,
  ...paramCases,
  ...pathCases,
  ...spelledFormCases,
  ...headerCases,
];

// ---- what every answer must be -----------------------------------------------------------------

/** The path the router sees: percent-decoded, dot segments and doubled slashes resolved. */
function routedPath(path: string): string {
  const raw = path.split('?')[0].split(';')[0];
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    /* stays raw */
  }
  return new URL(decoded.replace(/\/{2,}/g, '/'), 'http://x').pathname;
}

function breaches(testCase: Case, request: WireRequest, response: WireResponse | null): string[] {
  if (!response) return testCase.mayGoUnanswered ? [] : ['no answer'];
  const found: string[] = [];
  if (response.status >= 500) found.push(`status ${response.status}`);
  else if (testCase.status !== undefined && response.status !== testCase.status)
    found.push(`status ${response.status}, API.md wants ${testCase.status}`);
  if (!response.headers['x-request-id']) found.push('no X-Request-Id');
  const leak = LEAKS.find((pattern) => pattern.test(response.text));
  if (leak) found.push(`the body leaks internals (${leak})`);
  if (!isApiPath(routedPath(request.path))) return found;
  if (response.status >= 400 && response.status < 500) {
    const code = response.body?.code;
    if (!/^application\/problem\+json\b/.test(response.headers['content-type'] ?? ''))
      found.push(`a ${response.status} that is not a problem document (${response.headers['content-type']})`);
    else if (API_ERROR_STATUS[code] !== response.status || response.body.status !== response.status)
      found.push(`a ${response.status} with code ${JSON.stringify(code)}, not API.md's`);
  }
  if (response.status < 300 && !/no-store/.test(response.headers['cache-control'] ?? ''))
    found.push(`a ${response.status} on /api without Cache-Control: no-store`);
  if (testCase.nonJsonBody && ![404, 405, 415].includes(response.status))
    found.push(`a non-JSON body on /api answered ${response.status}, not 415`);
  return found;
}

/** Nest's error lines by request id, so that a failing case names the server's own error. */
class ErrorLog implements LoggerService {
  readonly lines: { requestId?: string; text: string }[] = [];
  error(message: unknown) {
    const { msg, requestId } =
      typeof message === 'object' && message !== null
        ? (message as { msg?: unknown; requestId?: string })
        : { msg: message, requestId: undefined };
    this.lines.push({ requestId, text: String(msg) });
  }
  about(requestId: string | undefined, since: number): string[] {
    const lines = requestId ? this.lines.filter((line) => line.requestId === requestId) : this.lines.slice(since);
    return lines.map((line) => line.text);
  }
  log() {}
  warn() {}
  debug() {}
  verbose() {}
}

for (const { backend, needs } of BACKENDS) {
  describeWith(needs, `bad-input battery on ${backend}`, () => {
    const errors = new ErrorLog();
    const context = {} as Context;

    beforeAll(async () => {
      const app = await startTestApp({
        backend,
        logger: errors,
        env: {
          ADMIN_EMAILS: ADMIN,
          RATE_LIMIT_PER_IP_PER_MINUTE: '1000000',
          RATE_LIMIT_GLOBAL_PER_IP_PER_MINUTE: '100000000',
          OTP_RESEND_COOLDOWN_SECONDS: '0',
          OTP_MAX_PER_HOUR: '1000000',
          // Behind a proxy, as the reviewer ran it: X-Forwarded-For becomes the client address.
          ...(backend === 'postgres-redis' ? { TRUST_PROXY: '1' } : {}),
        },
      });
      context.app = app;
      const [user, admin, exported, serviceToken, visitor, browser] = await Promise.all([
        signIn(app),
        signIn(app, ADMIN),
        signIn(app),
        mintServiceToken(app, 'tokens:introspect audit:read users:read', '1h', 'battery'),
        visit(app),
        browserSignIn(app),
      ]);
      Object.assign(context, { user, admin, exportedUserId: exported.user.id, serviceToken, visitor, browser });
    }, 60_000);
    afterAll(() => context.app?.close());

    // Otherwise a broken token or CSRF cookie would leave every case testing only the front door.
    it.each(ROUTES.map((route) => ({ route, name: routeName(route) })))(
      '$name takes its well-formed request',
      async ({ route }) => {
        const response = await sendWire(context.app.url, asIs(route, await route.base(context)));
        if (route.answers) expect(response?.status).toBe(route.answers);
        else expect(String(response?.status)).toMatch(/^2\d\d$/);
      },
    );

    // Building a case's well-formed request may mean signing in; the next few are built while this one runs.
    const bases = new Map<number, Promise<Base>>();
    function baseOf(index: number): Promise<Base> {
      for (let next = index; next < Math.min(CASES.length, index + PREFETCH); next++) {
        if (bases.has(next)) continue;
        const base = CASES[next].route.base(context);
        base.catch(() => undefined);
        bases.set(next, base);
      }
      const base = bases.get(index)!;
      bases.delete(index);
      return base;
    }

    it.each(
      CASES.map((testCase, index) => ({
        ...testCase,
        index,
        name: `${routeName(testCase.route)} · ${testCase.title}`,
      })),
    )('$name', async (testCase) => {
      const request = testCase.build(await baseOf(testCase.index), context);
      const logged = errors.lines.length;
      const response = await sendWire(context.app.url, request, { halfClose: testCase.mayGoUnanswered });
      const found = breaches(testCase, request, response);
      const serverErrors = found.length ? errors.about(response?.headers['x-request-id'], logged) : [];
      expect({ breaches: found, serverErrors }).toEqual({ breaches: [], serverErrors: [] });
    });

    it('still signs users in and is ready after the battery', async () => {
      expect((await context.app.request('GET', '/health/ready')).status).toBe(200);
      await expect(signIn(context.app)).resolves.toMatchObject({ accessToken: expect.any(String) });
    });
  });
}
