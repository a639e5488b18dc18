import { createHmac, createPublicKey, generateKeyPairSync, JsonWebKey, randomBytes, sign } from 'node:crypto';
import { describeWith } from '../support/services';
import { BACKENDS, HttpResult, startTestApp, TestApp } from '../support/test-app';
import { requestCode, signIn, uniqueEmail } from '../support/factories';
import { API_ERROR_STATUS } from '../support/api-contract';

const LEAKS = [
  /\bat .+:\d+:\d+/,
  /\\n\s+at /,
  /Error:/,
  /node_modules/,
  /\bSELECT\b/,
  /\bINSERT INTO\b/,
  /QueryFailedError/,
  /SQLITE_/,
];
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const KIB = 1024;

type Outcome = readonly [status: number, code: string];
type Json = Record<string, unknown>;

const INVALID: Outcome = [400, 'validation_failed'];
const TOO_LARGE: Outcome = [413, 'payload_too_large'];
const UNSUPPORTED: Outcome = [415, 'unsupported_media_type'];
const UNAUTHORIZED: Outcome = [401, 'unauthorized'];
const EXPIRED: Outcome = [401, 'otp_expired'];
const NOT_FOUND: Outcome = [404, 'not_found'];

function expectNoLeak(response: HttpResult): void {
  for (const leak of LEAKS) expect(response.text).not.toMatch(leak);
}

function expectProblem(response: HttpResult, status: number, code: string): void {
  expect({ status: response.status, body: response.body }).toMatchObject({ status, body: { status, code } });
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json\b/);
  expect(response.body).toEqual(
    expect.objectContaining({
      type: expect.any(String),
      title: expect.any(String),
      detail: expect.any(String),
      status,
      code,
    }),
  );
  expect(API_ERROR_STATUS[code]).toBe(status);
  expect(response.headers.get('x-request-id')).toMatch(SANE_REQUEST_ID);
  if (status === 401) expect(response.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
  if (status === 429) expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
  expectNoLeak(response);
}

/** For inputs where API.md allows more than one answer: any of them, never a 5xx. */
function expectProblemAmong(response: HttpResult, outcomes: Outcome[]): void {
  expect(outcomes).toContainEqual([response.status, response.body?.code]);
  expectProblem(response, response.status, response.body.code);
}

function expectLoginTicket(response: HttpResult): void {
  expect(response.status).toBe(202);
  expect(response.body).toEqual(
    expect.objectContaining({
      sessionId: expect.stringMatching(/^[A-Za-z0-9_-]{22,}$/),
      expiresAt: expect.any(String),
      codeLength: expect.any(Number),
    }),
  );
  expectNoLeak(response);
}

// ---- request bodies -------------------------------------------------------------------------

/** A body as sent on the wire; `contentType: null` sends no Content-Type header at all. */
interface RawBody {
  payload: string | Uint8Array;
  contentType: string | null;
}

const raw = (payload: string, contentType: string | null = 'application/json'): RawBody => ({ payload, contentType });
const json = (value: unknown): RawBody => raw(JSON.stringify(value));
/** fetch labels a string body text/plain; bytes go out without a Content-Type. */
const unlabelled = (payload: string): RawBody => ({ payload: new TextEncoder().encode(payload), contentType: null });

const nestedObjects = (depth: number, leaf = '1') => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
const nestedArrays = (depth: number, leaf = '1') => '['.repeat(depth) + leaf + ']'.repeat(depth);

interface Endpoint {
  title: string;
  method: 'POST' | 'PATCH';
  path: string;
  /** The field a wrong-typed value is put in. */
  field: string;
  validBody: () => Json;
  signedIn: boolean;
}

/** 36 random bytes: the length and alphabet of a real sessionId, but never issued. */
const unknownSessionId = () => randomBytes(36).toString('base64url');

const ENDPOINTS: Endpoint[] = [
  {
    title: 'POST /auth/otp',
    method: 'POST',
    path: '/api/v1/auth/otp',
    field: 'email',
    validBody: () => ({ email: uniqueEmail('bad-input') }),
    signedIn: false,
  },
  {
    title: 'POST /auth/otp/resend',
    method: 'POST',
    path: '/api/v1/auth/otp/resend',
    field: 'sessionId',
    validBody: () => ({ sessionId: unknownSessionId() }),
    signedIn: false,
  },
  {
    title: 'POST /auth/otp/verify',
    method: 'POST',
    path: '/api/v1/auth/otp/verify',
    field: 'sessionId',
    validBody: () => ({ sessionId: unknownSessionId(), code: '123456' }),
    signedIn: false,
  },
  {
    title: 'PATCH /users/me',
    method: 'PATCH',
    path: '/api/v1/users/me',
    field: 'name',
    validBody: () => ({ name: 'Mallory' }),
    signedIn: true,
  },
];

const BOUNDARY = 'bad-input-boundary';

const BODY_CASES: { title: string; body: (valid: Json, field: string) => RawBody; outcome: Outcome }[] = [
  {
    title: 'oversized (17 KiB)',
    body: (valid) => json({ ...valid, padding: 'x'.repeat(17 * KIB) }),
    outcome: TOO_LARGE,
  },
  {
    title: 'oversized JSON string in the field (20 KiB)',
    body: (valid, field) => json({ ...valid, [field]: 'x'.repeat(20 * KIB) }),
    outcome: TOO_LARGE,
  },
  { title: 'malformed JSON', body: (valid) => raw(JSON.stringify(valid).slice(0, -1)), outcome: INVALID },
  { title: 'JSON followed by garbage', body: (valid) => raw(`${JSON.stringify(valid)} trailing`), outcome: INVALID },
  { title: 'single-quoted pseudo JSON', body: (_valid, field) => raw(`{'${field}': 'x'}`), outcome: INVALID },
  { title: 'empty body with a JSON content type', body: () => raw(''), outcome: INVALID },
  { title: 'whitespace-only body', body: () => raw('   \n '), outcome: INVALID },
  { title: 'JSON null', body: () => raw('null'), outcome: INVALID },
  { title: 'JSON empty array', body: () => raw('[]'), outcome: INVALID },
  { title: 'JSON array holding a valid body', body: (valid) => json([valid]), outcome: INVALID },
  { title: 'JSON string', body: (valid, field) => json(String(valid[field])), outcome: INVALID },
  { title: 'JSON number', body: () => raw('42'), outcome: INVALID },
  { title: 'JSON boolean', body: () => raw('true'), outcome: INVALID },
  { title: 'text/plain', body: (valid) => raw(JSON.stringify(valid), 'text/plain'), outcome: UNSUPPORTED },
  {
    title: 'application/x-www-form-urlencoded',
    body: (valid) =>
      raw(new URLSearchParams(valid as Record<string, string>).toString(), 'application/x-www-form-urlencoded'),
    outcome: UNSUPPORTED,
  },
  {
    title: 'multipart/form-data',
    body: (valid, field) =>
      raw(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"\r\n\r\n${String(valid[field])}\r\n--${BOUNDARY}--\r\n`,
        `multipart/form-data; boundary=${BOUNDARY}`,
      ),
    outcome: UNSUPPORTED,
  },
  {
    title: 'application/xml',
    body: (_valid, field) => raw(`<${field}>x</${field}>`, 'application/xml'),
    outcome: UNSUPPORTED,
  },
  { title: 'no content type', body: (valid) => unlabelled(JSON.stringify(valid)), outcome: UNSUPPORTED },
  { title: 'an unknown field', body: (valid) => json({ ...valid, isAdmin: true }), outcome: INVALID },
  {
    title: '__proto__ member',
    body: (valid) => raw(`{"__proto__":{"isAdmin":true},${JSON.stringify(valid).slice(1)}`),
    outcome: INVALID,
  },
  {
    title: 'constructor.prototype member',
    body: (valid) => json({ ...valid, constructor: { prototype: { isAdmin: true } } }),
    outcome: INVALID,
  },
  {
    title: 'deeply nested objects in the field (2,500 levels)',
    body: (_valid, field) => raw(`{"${field}":${nestedObjects(2500)}}`),
    outcome: INVALID,
  },
  {
    title: 'deeply nested arrays in the field (8,000 levels)',
    body: (_valid, field) => raw(`{"${field}":${nestedArrays(8000)}}`),
    outcome: INVALID,
  },
  {
    title: 'deeply nested objects in an unknown field (2,500 levels)',
    body: (valid) => raw(`{"deep":${nestedObjects(2500)},${JSON.stringify(valid).slice(1)}`),
    outcome: INVALID,
  },
];

// ---- emails ---------------------------------------------------------------------------------

/** A syntactically valid address of exactly `length` characters (local part 64, labels of at most 63). */
function addressOfLength(length: number): string {
  const local = 'a'.repeat(64);
  let domain = 'example.com';
  while (local.length + 1 + domain.length < length) {
    const missing = length - (local.length + 1 + domain.length);
    domain = `${'b'.repeat(Math.min(63, missing - 1) || 1)}.${domain}`;
  }
  return `${local}@${domain}`;
}

const REJECTED_EMAILS: [title: string, email: unknown][] = [
  ['CR/LF header injection', 'a@b.com\r\nBcc: x@y.com'],
  ['a bare LF inside', 'ada@exa\nmple.com'],
  ['a trailing LF', 'ada@example.com\n'],
  ['a trailing CR', 'ada@example.com\r'],
  ['a NUL byte', 'ada\u0000@example.com'],
  ['a trailing NUL byte', 'ada@example.com\u0000'],
  ['a tab', 'ada\t@example.com'],
  ['an ESC sequence', '\u001b[31mada@example.com'],
  ['DEL', 'ada\u007f@example.com'],
  ['a C1 control (NEL)', 'ada\u0085@example.com'],
  ['a line separator (U+2028)', 'ada\u2028@example.com'],
  ['300 characters', addressOfLength(300)],
  ['255 characters', addressOfLength(255)],
  ['an empty string', ''],
  ['only spaces', '     '],
  ['no @', 'ada.example.com'],
  ['two @', 'ada@lovelace@example.com'],
  ['no local part', '@example.com'],
  ['no domain', 'ada@'],
  ["SQL: ' OR 1=1 --@x.com", "' OR 1=1 --@x.com"],
  ["SQL: a@b.com'; DROP TABLE users;--", "a@b.com'; DROP TABLE users;--"],
  ['SQL: UNION SELECT', "x@y.com' UNION SELECT password FROM users--"],
  ['a script tag', '<script>alert(1)</script>@example.com'],
  ['a script tag in the domain', 'ada@<script>alert(1)</script>.com'],
  ['a display name', 'Ada Lovelace <ada@example.com>'],
  ['two addresses', 'ada@example.com, eve@example.com'],
  ['a number', 42],
  ['an object', { address: 'ada@example.com' }],
  ['an operator object', { $ne: null }],
  ['an array', ['ada@example.com']],
  ['a boolean', true],
  ['null', null],
];

/** [title, as sent, the normalised address the mail must reach] */
const ACCEPTED_EMAILS: [title: string, email: string, normalised: string][] = [
  ['surrounding spaces and capitals', ' Ada@Example.COM ', 'ada@example.com'],
  ['253 characters', addressOfLength(253), addressOfLength(253)],
  ['SQL metacharacters in a valid local part', "o'reilly--@example.com", "o'reilly--@example.com"],
];

const IDN_EMAILS: string[] = ['用户@例子.广告', 'josé@bücher.de', 'ada@bücher.de', 'пользователь@пример.рф'];

// ---- sessionId and code ---------------------------------------------------------------------

const BAD_SESSION_IDS: [title: string, sessionId: unknown][] = [
  ['an empty string', ''],
  ['500 characters', 'a'.repeat(500)],
  ['standard base64 (+ / =)', `${'A'.repeat(44)}+/a=`],
  ['spaces', `${'A'.repeat(24)} ${'A'.repeat(23)}`],
  ['a path', '../../../../etc/passwd'],
  ['a NUL byte', `${'A'.repeat(24)}\u0000${'A'.repeat(23)}`],
  ['non-ASCII letters', 'ü'.repeat(48)],
  ['a Redis glob', '*'],
  ['a Redis key pattern', `${'A'.repeat(40)}:*`],
  ["SQL: ' OR '1'='1", "' OR '1'='1"],
  ['SQL: DROP TABLE', "x'; DROP TABLE otp_tokens;--"],
  ['a script tag', '<script>alert(1)</script>'],
  ['a number', 123456],
  ['an operator object', { $ne: null }],
  ['an array', [unknownSessionId()]],
  ['a boolean', true],
  ['null', null],
];

const BAD_CODES: [title: string, code: unknown][] = [
  ['an empty string', ''],
  ['letters', 'abcdef'],
  ['digits and a letter', '12345a'],
  ['too short (3 digits)', '123'],
  ['too long (20 digits)', '12345678901234567890'],
  ['a number instead of a string', 123456],
  ['Arabic-Indic digits', '١٢٣٤٥٦'],
  ['fullwidth digits', '１２３４５６'],
  ['a NUL byte', '123\u0000456'],
  ['SQL', "123456' OR '1'='1"],
  ['an array', ['123456']],
  ['an object', { $gt: '' }],
  ['a boolean', true],
  ['null', null],
];

// ---- bearer tokens --------------------------------------------------------------------------

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function decodeJwt(token: string): { header: Json; payload: Json; signature: string } {
  const [header, payload, signature] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()),
    signature,
  };
}

function es256(
  header: Json,
  payload: Json,
  privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

interface TokenContext {
  accessToken: string;
  refreshToken: string;
  jwks: { keys: JsonWebKey[] };
}

const BAD_AUTHORIZATIONS: [title: string, header: (context: TokenContext) => string | undefined][] = [
  ['no Authorization header', () => undefined],
  ['the scheme alone', () => 'Bearer'],
  ['Bearer garbage', () => 'Bearer garbage'],
  ['three empty segments', () => 'Bearer ..'],
  [
    'alg none',
    ({ accessToken }) => {
      const { header, payload } = decodeJwt(accessToken);
      return `Bearer ${b64url({ ...header, alg: 'none' })}.${b64url(payload)}.`;
    },
  ],
  [
    'a tampered signature',
    ({ accessToken }) => {
      const { signature } = decodeJwt(accessToken);
      const bytes = Buffer.from(signature, 'base64url');
      bytes[bytes.length - 1] ^= 0xff;
      return `Bearer ${accessToken.slice(0, accessToken.lastIndexOf('.'))}.${bytes.toString('base64url')}`;
    },
  ],
  [
    'a tampered payload (roles: admin) under the original signature',
    ({ accessToken }) => {
      const { header, payload, signature } = decodeJwt(accessToken);
      return `Bearer ${b64url(header)}.${b64url({ ...payload, roles: ['user', 'admin'] })}.${signature}`;
    },
  ],
  [
    'signed with another key under our kid',
    ({ accessToken }) => {
      const { header, payload } = decodeJwt(accessToken);
      return `Bearer ${es256(header, payload)}`;
    },
  ],
  [
    'HS256 keyed with our public key',
    ({ accessToken, jwks }) => {
      const { header, payload } = decodeJwt(accessToken);
      const jwk = jwks.keys.find((key) => (key as Json).kid === header.kid)!;
      const publicPem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      const input = `${b64url({ ...header, alg: 'HS256' })}.${b64url(payload)}`;
      return `Bearer ${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
    },
  ],
  ['the refresh token as a bearer token', ({ refreshToken }) => `Bearer ${refreshToken}`],
  ['Basic auth', () => `Basic ${Buffer.from('ada@example.com:password').toString('base64')}`],
  ['a valid token under another scheme', ({ accessToken }) => `Token ${accessToken}`],
  ['a valid token without a scheme', ({ accessToken }) => accessToken],
];

// ---- PATCH /users/me ------------------------------------------------------------------------

/** A JSON object whose compact serialisation is exactly `bytes` long. */
const formDataOfSize = (bytes: number): Json => ({ notes: 'x'.repeat(bytes - '{"notes":""}'.length) });

const BASELINE_PROFILE = {
  name: 'Ada Lovelace',
  lastSubmittedFormData: { step: 2, answers: { colour: 'blue' }, tags: ['a', 'b'] },
};

const BAD_PROFILE_BODIES: [title: string, body: Json | string][] = [
  ['name of 201 characters', { name: 'n'.repeat(201) }],
  ['name with a NUL byte', { name: 'Ada\u0000Lovelace' }],
  ['name with a line feed', { name: 'Ada\nLovelace' }],
  ['name with CR/LF', { name: 'Ada\r\nX-Injected: 1' }],
  ['name with an ESC sequence', { name: '\u001b[2JAda' }],
  ['name with DEL', { name: 'Ada\u007f' }],
  ['name with a C1 control (NEL)', { name: 'Ada\u0085Lovelace' }],
  ['name as a number', { name: 42 }],
  ['name as a boolean', { name: true }],
  ['name as an object', { name: { first: 'Ada' } }],
  ['name as an array', { name: ['Ada'] }],
  ['lastSubmittedFormData as an array', { lastSubmittedFormData: [1, 2, 3] }],
  ['lastSubmittedFormData as an empty array', { lastSubmittedFormData: [] }],
  ['lastSubmittedFormData as a string', { lastSubmittedFormData: '{"step":3}' }],
  ['lastSubmittedFormData as a number', { lastSubmittedFormData: 3 }],
  ['lastSubmittedFormData as a boolean', { lastSubmittedFormData: true }],
  ['lastSubmittedFormData of 8 KiB + 1 byte', { lastSubmittedFormData: formDataOfSize(8 * KIB + 1) }],
  ['lastSubmittedFormData of 12 KiB', { lastSubmittedFormData: formDataOfSize(12 * KIB) }],
  ['lastSubmittedFormData over 8 KiB, deeply nested', `{"lastSubmittedFormData":{"deep":${nestedArrays(5000)}}}`],
  ['an unknown field', { name: 'Ada', nickname: 'Countess' }],
  ['an attempt to change the email', { email: 'mallory@example.com' }],
  ['an attempt to change the id', { id: '00000000-0000-4000-8000-000000000000' }],
  ['an attempt to grant roles', { roles: ['admin'] }],
  ['an attempt to set timestamps', { createdAt: '2000-01-01T00:00:00Z' }],
];

/** Valid JSON that PostgreSQL's jsonb cannot hold as is: stored somehow or refused, never a 5xx. */
const AWKWARD_FORM_DATA: [title: string, formData: Json][] = [
  ['a NUL character in a string', { note: 'a\u0000b' }],
  ['a NUL character in a key', { 'a\u0000b': 1 }],
  ['a lone surrogate', { note: '\ud800' }],
];

// ---- headers and paths ----------------------------------------------------------------------

const SANE_REQUEST_IDS = ['req-1234', 'a1b2c3d4.e5:f6_G7-H8', '6f1c2a2e-6a3b-4c7e-9d2f-0b1a2c3d4e5f'];
const INSANE_REQUEST_IDS: [title: string, value: string][] = [
  ['with spaces', 'has spaces in it'],
  ['300 characters', 'r'.repeat(300)],
  ['a script tag', '<script>alert(1)</script>'],
  ['header-ish punctuation', 'id;admin=true,other'],
  ['non-ASCII (Latin-1)', 'caf\u00e9'],
];

const UNKNOWN_PATHS: [method: string, path: string][] = [
  ['GET', '/api/v1/nope'],
  ['GET', '/api/v2/users/me'],
  ['GET', '/api/v1/users/me/extra'],
  ['POST', '/api/v1/auth/otp/nope'],
  ['GET', '/nope'],
];

const WRONG_METHODS: [method: string, path: string, json: Json | undefined][] = [
  ['DELETE', '/api/v1/auth/otp', undefined],
  ['GET', '/api/v1/auth/otp/verify', undefined],
  ['PUT', '/api/v1/users/me', BASELINE_PROFILE],
];

for (const { backend, needs } of BACKENDS) {
  describeWith(needs, `bad input on ${backend}`, () => {
    let app: TestApp;
    let tokens: TokenContext;
    const bearer = () => ({ authorization: `Bearer ${tokens.accessToken}` });

    const send = (method: string, path: string, body: RawBody, headers: Record<string, string> = {}) =>
      app.request(method, path, {
        // The harness types raw bodies as strings; fetch sends bytes without inventing a Content-Type.
        body: body.payload as string,
        headers: body.contentType === null ? headers : { 'content-type': body.contentType, ...headers },
      });

    beforeAll(async () => {
      app = await startTestApp({ backend });
      const session = await signIn(app);
      const jwks = await app.request('GET', '/.well-known/jwks.json');
      tokens = { accessToken: session.accessToken, refreshToken: session.refreshToken, jwks: jwks.body };
      const baseline = await app.request('PATCH', '/api/v1/users/me', { json: BASELINE_PROFILE, headers: bearer() });
      if (baseline.status !== 200) throw new Error(`baseline PATCH failed: ${baseline.status} ${baseline.text}`);
    });
    afterAll(() => app?.close());

    describe('request bodies', () => {
      const rows = ENDPOINTS.flatMap((endpoint) =>
        BODY_CASES.map((bodyCase) => [`${endpoint.title}: ${bodyCase.title}`, endpoint, bodyCase] as const),
      );

      it.each(rows)('%s', async (_title, endpoint, { body, outcome }) => {
        const response = await send(
          endpoint.method,
          endpoint.path,
          body(endpoint.validBody(), endpoint.field),
          endpoint.signedIn ? bearer() : {},
        );
        expectProblem(response, ...outcome);
      });
    });

    describe('POST /api/v1/auth/otp email', () => {
      it('refuses a body without an email', async () => {
        expectProblem(await app.request('POST', '/api/v1/auth/otp', { json: {} }), ...INVALID);
      });

      it.each(REJECTED_EMAILS)('refuses %s', async (_title, email) => {
        expectProblem(await app.request('POST', '/api/v1/auth/otp', { json: { email } }), ...INVALID);
      });

      it.each(ACCEPTED_EMAILS)('accepts %s and mails the normalised address', async (_title, email, normalised) => {
        expectLoginTicket(await app.request('POST', '/api/v1/auth/otp', { json: { email } }));
        await app.sink.waitForMessage(normalised);
      });

      // The SMTP sink (smtp-server) refuses paths over 253 characters, so a valid 254-character
      // address can only be told apart from an invalid one by not being validation_failed.
      it('takes a 254-character address as valid', async () => {
        const response = await app.request('POST', '/api/v1/auth/otp', { json: { email: addressOfLength(254) } });
        if (response.status === 202) expectLoginTicket(response);
        else expectProblem(response, 503, 'mail_unavailable');
      });

      it.each(IDN_EMAILS)('accepts or refuses the IDN address %s, never a 5xx', async (email) => {
        const response = await app.request('POST', '/api/v1/auth/otp', { json: { email } });
        if (response.status === 202) expectLoginTicket(response);
        else expectProblem(response, ...INVALID);
      });
    });

    describe.each([
      ['POST /api/v1/auth/otp/resend', '/api/v1/auth/otp/resend', {}],
      ['POST /api/v1/auth/otp/verify', '/api/v1/auth/otp/verify', { code: '123456' }],
    ])('%s sessionId', (_title, path, rest) => {
      it('refuses a body without a sessionId', async () => {
        expectProblem(await app.request('POST', path, { json: rest }), ...INVALID);
      });

      it.each(BAD_SESSION_IDS)('refuses %s', async (_title, sessionId) => {
        expectProblem(await app.request('POST', path, { json: { ...rest, sessionId } }), ...INVALID);
      });

      it('answers otp_expired for a well-formed unknown sessionId', async () => {
        expectProblem(
          await app.request('POST', path, { json: { ...rest, sessionId: unknownSessionId() } }),
          ...EXPIRED,
        );
      });
    });

    describe('POST /api/v1/auth/otp/verify code', () => {
      let login: { email: string; sessionId: string; code: string };
      beforeAll(async () => {
        const email = uniqueEmail('bad-code');
        login = { email, ...(await requestCode(app, email)) };
      });

      it('refuses a body without a code', async () => {
        expectProblem(
          await app.request('POST', '/api/v1/auth/otp/verify', { json: { sessionId: login.sessionId } }),
          ...INVALID,
        );
      });

      it.each(BAD_CODES)('refuses %s', async (_title, code) => {
        expectProblem(
          await app.request('POST', '/api/v1/auth/otp/verify', { json: { sessionId: login.sessionId, code } }),
          ...INVALID,
        );
      });

      it('takes "123 456" as a code, not as malformed input', async () => {
        const code = login.code === '123456' ? '654 321' : '123 456';
        const response = await app.request('POST', '/api/v1/auth/otp/verify', {
          json: { sessionId: login.sessionId, code },
        });
        expectProblemAmong(response, [[401, 'otp_invalid'], EXPIRED]);
      });

      it('still signs in with the right code afterwards', async () => {
        const response = await app.request('POST', '/api/v1/auth/otp/verify', {
          json: { sessionId: login.sessionId, code: login.code },
        });
        expect({ status: response.status, body: response.body }).toMatchObject({
          status: 200,
          body: { tokenType: 'Bearer', user: { email: login.email } },
        });
      });
    });

    describe.each([
      ['GET', undefined],
      ['PATCH', { name: 'Mallory' }],
    ])('%s /api/v1/users/me authorization', (method, json) => {
      it.each(BAD_AUTHORIZATIONS)('refuses %s', async (_title, header) => {
        const authorization = header(tokens);
        const response = await app.request(method, '/api/v1/users/me', {
          json,
          headers: authorization === undefined ? {} : { authorization },
        });
        expectProblem(response, ...UNAUTHORIZED);
      });
    });

    describe('PATCH /api/v1/users/me body', () => {
      it.each(BAD_PROFILE_BODIES)('refuses %s', async (_title, body) => {
        const response = await send(
          'PATCH',
          '/api/v1/users/me',
          typeof body === 'string' ? raw(body) : json(body),
          bearer(),
        );
        expectProblem(response, ...INVALID);
      });

      it('lost nothing to the refused requests', async () => {
        const me = await app.request('GET', '/api/v1/users/me', { headers: bearer() });
        expect(me.status).toBe(200);
        expect(me.body).toMatchObject(BASELINE_PROFILE);
      });

      it('still takes a valid PATCH at the limits', async () => {
        const profile = { name: 'N'.repeat(200), lastSubmittedFormData: formDataOfSize(8 * KIB) };
        const patched = await app.request('PATCH', '/api/v1/users/me', { json: profile, headers: bearer() });
        expect({ status: patched.status, body: patched.body }).toMatchObject({ status: 200, body: profile });
        const me = await app.request('GET', '/api/v1/users/me', { headers: bearer() });
        expect(me.body).toMatchObject(profile);
      });

      it.each(AWKWARD_FORM_DATA)(
        'stores or refuses lastSubmittedFormData with %s, never a 5xx',
        async (_title, formData) => {
          const other = await signIn(app);
          const response = await app.request('PATCH', '/api/v1/users/me', {
            json: { lastSubmittedFormData: formData },
            headers: { authorization: `Bearer ${other.accessToken}` },
          });
          if (response.status === 200) expectNoLeak(response);
          else expectProblem(response, ...INVALID);
          const me = await app.request('GET', '/api/v1/users/me', {
            headers: { authorization: `Bearer ${other.accessToken}` },
          });
          expect(me.status).toBe(200);
        },
      );
    });

    describe('X-Request-Id', () => {
      it.each(SANE_REQUEST_IDS)('echoes the sane %s on a problem response', async (requestId) => {
        const response = await app.request('POST', '/api/v1/auth/otp', {
          json: {},
          headers: { 'x-request-id': requestId },
        });
        expectProblem(response, ...INVALID);
        expect(response.headers.get('x-request-id')).toBe(requestId);
      });

      it.each(INSANE_REQUEST_IDS)('replaces one %s by a generated id', async (_title, requestId) => {
        const response = await app.request('POST', '/api/v1/auth/otp', {
          json: {},
          headers: { 'x-request-id': requestId },
        });
        expectProblem(response, ...INVALID);
        expect(response.headers.get('x-request-id')).not.toBe(requestId);
        expect(response.text).not.toContain(requestId);
      });
    });

    describe('paths', () => {
      it.each(UNKNOWN_PATHS)('answers not_found to %s %s', async (method, path) => {
        const response = await app.request(method, path, method === 'GET' ? {} : { json: { email: uniqueEmail() } });
        expectProblem(response, ...NOT_FOUND);
      });

      it.each(WRONG_METHODS)('answers a problem to %s %s', async (method, path, json) => {
        const response = await app.request(method, path, { json, headers: bearer() });
        expectProblemAmong(response, [NOT_FOUND, [405, 'method_not_allowed']]);
      });
    });

    it('is still ready and signs users in after the battery', async () => {
      const ready = await app.request('GET', '/health/ready');
      expect({ status: ready.status, body: ready.body }).toMatchObject({ status: 200 });
      const session = await signIn(app);
      const me = await app.request('GET', '/api/v1/users/me', {
        headers: { authorization: `Bearer ${session.accessToken}` },
      });
      expect({ status: me.status, body: me.body }).toMatchObject({ status: 200, body: { email: session.email } });
    });
  });
}
