import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp, TestApp } from '../support/test-app';
import { API_ERROR_STATUS } from '../support/api-contract';

/** Every JSON API operation of API.md: success status, whether it needs a token, request and response fields. */
const OPERATIONS: {
  method: string;
  path: string;
  status: string;
  bearer: boolean;
  body?: string[];
  response?: string[];
}[] = [
  {
    method: 'post',
    path: '/api/v1/auth/otp',
    status: '202',
    bearer: false,
    body: ['email'],
    response: ['sessionId', 'expiresAt', 'resendAvailableAt', 'codeLength'],
  },
  {
    method: 'post',
    path: '/api/v1/auth/otp/resend',
    status: '202',
    bearer: false,
    body: ['sessionId'],
    response: ['sessionId', 'expiresAt', 'resendAvailableAt', 'codeLength'],
  },
  {
    method: 'post',
    path: '/api/v1/auth/otp/verify',
    status: '200',
    bearer: false,
    body: ['sessionId', 'code'],
    response: ['accessToken', 'tokenType', 'expiresIn', 'refreshToken', 'user'],
  },
  {
    method: 'post',
    path: '/api/v1/auth/refresh',
    status: '200',
    bearer: false,
    body: ['refreshToken'],
    response: ['accessToken', 'tokenType', 'expiresIn', 'refreshToken', 'user'],
  },
  { method: 'post', path: '/api/v1/auth/logout', status: '204', bearer: true },
  { method: 'get', path: '/api/v1/auth/sessions', status: '200', bearer: true, response: ['items'] },
  { method: 'delete', path: '/api/v1/auth/sessions/{id}', status: '204', bearer: true },
  {
    method: 'post',
    path: '/api/v1/auth/introspect',
    status: '200',
    bearer: true,
    body: ['token'],
    response: ['active', 'sub', 'sid', 'exp'],
  },
  {
    method: 'get',
    path: '/api/v1/users/me',
    status: '200',
    bearer: true,
    response: ['id', 'email', 'name', 'createdAt', 'lastLoginAt', 'lastSubmittedFormData'],
  },
  {
    method: 'patch',
    path: '/api/v1/users/me',
    status: '200',
    bearer: true,
    body: ['name', 'lastSubmittedFormData'],
    response: ['id', 'email', 'name', 'lastSubmittedFormData'],
  },
  { method: 'get', path: '/api/v1/admin/audit', status: '200', bearer: true, response: ['items', 'nextCursor'] },
  { method: 'get', path: '/api/v1/admin/audit/export', status: '200', bearer: true },
  { method: 'get', path: '/api/v1/admin/users', status: '200', bearer: true, response: ['items', 'nextCursor'] },
  { method: 'post', path: '/api/v1/admin/users/{id}/revoke-sessions', status: '204', bearer: true },
  {
    method: 'post',
    path: '/api/v1/admin/clients',
    status: '201',
    bearer: true,
    body: ['name', 'redirect_uris', 'post_logout_redirect_uris', 'public', 'id_token_signed_response_alg'],
    response: [
      'client_id',
      'client_secret',
      'name',
      'redirect_uris',
      'post_logout_redirect_uris',
      'public',
      'id_token_signed_response_alg',
      'created_at',
    ],
  },
  { method: 'get', path: '/api/v1/admin/clients', status: '200', bearer: true, response: ['items'] },
  { method: 'delete', path: '/api/v1/admin/clients/{client_id}', status: '204', bearer: true },
  { method: 'get', path: '/.well-known/jwks.json', status: '200', bearer: false, response: ['keys'] },
  { method: 'get', path: '/health/live', status: '200', bearer: false },
  { method: 'get', path: '/health/ready', status: '200', bearer: false, response: ['status', 'details'] },
];

type Json = any;

describe('OpenAPI documentation', () => {
  let app: TestApp;
  let doc: Json;

  beforeAll(async () => {
    app = await startTestApp({ backend: 'sqlite-memory', env: { RATE_LIMIT_GLOBAL_PER_IP_PER_MINUTE: '3' } });
    const response = await app.request('GET', '/docs/openapi.json');
    expect(response.status).toBe(200);
    doc = response.body;
  });
  afterAll(() => app?.close());

  /** Follows a local $ref (and a single-entry allOf wrapper) to the schema it names. */
  const resolve = (schema: Json): Json => {
    if (schema?.$ref)
      return resolve(
        schema.$ref
          .split('/')
          .slice(1)
          .reduce((node: Json, key: string) => node?.[key], doc),
      );
    if (schema?.allOf?.length === 1) return resolve(schema.allOf[0]);
    return schema;
  };
  const operation = (method: string, path: string): Json => doc.paths[path]?.[method];
  const problemCodes = (response: Json): string[] => {
    const schema = response?.content?.['application/problem+json']?.schema;
    return (schema?.allOf ?? []).flatMap((part: Json) => part.properties?.code?.enum ?? []);
  };

  it('is an OpenAPI 3 document of this service, with a bearer scheme and the public URL as server', () => {
    expect(String(doc.openapi)).toMatch(/^3\./);
    expect(doc.info.title).toEqual(expect.any(String));
    expect(doc.info.version).toBe(
      JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).version,
    );
    expect(doc.servers).toEqual([expect.objectContaining({ url: app.config.http.publicUrl })]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('lists every operation of the JSON API, and none of the browser pages or the development mailbox', () => {
    const missing = OPERATIONS.filter(({ method, path }) => !operation(method, path)).map(
      ({ method, path }) => `${method} ${path}`,
    );
    expect(missing).toEqual([]);
    for (const path of Object.keys(doc.paths))
      expect(path).not.toMatch(/^\/(login|verify-otp|dashboard|logout|sessions|assets|dev)(\/|$)|^\/$/);
  });

  it.each(OPERATIONS)(
    '$method $path: status, token, body and response fields',
    ({ method, path, status, bearer, body, response }) => {
      const op = operation(method, path);
      expect(op.summary).toEqual(expect.any(String));
      expect(op.tags?.length).toBeGreaterThan(0);
      expect(op.responses[status]).toBeDefined();
      expect(Boolean(op.security?.some((requirement: Json) => 'bearer' in requirement))).toBe(bearer);
      if (bearer) expect(problemCodes(op.responses['401'])).toContain('unauthorized');
      if (body) {
        const schema = resolve(op.requestBody.content['application/json'].schema);
        expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(body));
        expect(problemCodes(op.responses['400'])).toContain('validation_failed');
      }
      if (response) {
        const schema = resolve(op.responses[status].content['application/json'].schema);
        expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(response));
      }
    },
  );

  it('documents the verify errors: 401 otp_invalid with attemptsRemaining, 401 otp_expired, 429 rate_limited with Retry-After', () => {
    const verify = operation('post', '/api/v1/auth/otp/verify');
    expect(resolve(verify.requestBody.content['application/json'].schema).required).toEqual(
      expect.arrayContaining(['sessionId', 'code']),
    );
    const unauthorized = verify.responses['401'];
    expect(problemCodes(unauthorized)).toEqual(expect.arrayContaining(['otp_invalid', 'otp_expired']));
    expect(unauthorized.content['application/problem+json'].examples.otp_invalid.value).toMatchObject({
      status: 401,
      code: 'otp_invalid',
      attemptsRemaining: expect.any(Number),
    });
    expect(unauthorized.headers['WWW-Authenticate']).toBeDefined();
    expect(problemCodes(verify.responses['429'])).toContain('rate_limited');
    expect(verify.responses['429'].headers['Retry-After']).toBeDefined();
    const user = resolve(resolve(verify.responses['200'].content['application/json'].schema).properties.user);
    expect(Object.keys(user.properties)).toEqual(
      expect.arrayContaining(['id', 'email', 'name', 'createdAt', 'lastLoginAt']),
    );
  });

  it('documents the errors API.md names for each operation', () => {
    const codesOf = (method: string, path: string) =>
      Object.values(operation(method, path).responses).flatMap(problemCodes);
    expect(codesOf('post', '/api/v1/auth/otp')).toEqual(
      expect.arrayContaining(['validation_failed', 'otp_resend_too_soon', 'rate_limited', 'mail_unavailable']),
    );
    expect(codesOf('post', '/api/v1/auth/otp/resend')).toEqual(
      expect.arrayContaining(['otp_expired', 'otp_resend_too_soon', 'rate_limited', 'mail_unavailable']),
    );
    expect(codesOf('post', '/api/v1/auth/refresh')).toContain('refresh_token_reused');
    expect(codesOf('delete', '/api/v1/auth/sessions/{id}')).toContain('not_found');
    for (const path of ['/api/v1/admin/audit', '/api/v1/admin/users'])
      expect(codesOf('get', path)).toEqual(expect.arrayContaining(['unauthorized', 'forbidden', 'validation_failed']));
    expect(codesOf('post', '/api/v1/admin/users/{id}/revoke-sessions')).toEqual(
      expect.arrayContaining(['unauthorized', 'forbidden', 'not_found']),
    );
    expect(codesOf('post', '/api/v1/admin/clients')).toEqual(
      expect.arrayContaining(['unauthorized', 'forbidden', 'validation_failed']),
    );
    expect(codesOf('get', '/api/v1/admin/clients')).toEqual(expect.arrayContaining(['unauthorized', 'forbidden']));
    expect(codesOf('delete', '/api/v1/admin/clients/{client_id}')).toEqual(
      expect.arrayContaining(['unauthorized', 'forbidden', 'not_found']),
    );
  });

  it('knows every error code of API.md, and files each documented code under its status as application/problem+json', () => {
    const problem = resolve(doc.components.schemas.Problem);
    expect(Object.keys(problem.properties)).toEqual(
      expect.arrayContaining(['type', 'title', 'status', 'detail', 'code', 'attemptsRemaining', 'errors']),
    );
    expect([...resolve(problem.properties.code).enum].sort()).toEqual(Object.keys(API_ERROR_STATUS).sort());
    const documented = new Set<string>();
    for (const item of Object.values<Json>(doc.paths)) {
      for (const op of Object.values<Json>(item)) {
        for (const [status, response] of Object.entries<Json>(op.responses)) {
          for (const code of problemCodes(response)) {
            expect(`${code} ${API_ERROR_STATUS[code]}`).toBe(`${code} ${status}`);
            documented.add(code);
          }
        }
      }
    }
    const onlyInTheEnum = Object.keys(API_ERROR_STATUS).filter((code) => !documented.has(code));
    expect(onlyInTheEnum.sort()).toEqual(['method_not_allowed', 'service_unavailable']);
  });

  it('has no dangling $ref', () => {
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    const dangling = refs.map((ref) => ref.slice(8, -1)).filter((ref) => resolve({ $ref: ref }) === undefined);
    expect(dangling).toEqual([]);
  });

  it('serves Swagger UI at /docs with its assets, relaxing only style-src of the CSP there', async () => {
    const page = await app.request('GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('swagger-ui');
    const csp = page.headers.get('content-security-policy') ?? '';
    for (const directive of ["frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "script-src 'self';"])
      expect(csp).toContain(directive);
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);

    for (const asset of [
      'swagger-ui-bundle.js',
      'swagger-ui-standalone-preset.js',
      'swagger-ui-init.js',
      'swagger-ui.css',
    ]) {
      const response = await app.request('GET', `/docs/${asset}`);
      expect(`${asset} ${response.status}`).toBe(`${asset} 200`);
    }
    const api = await app.request('GET', '/health/live');
    expect(api.headers.get('content-security-policy')).toContain("style-src 'self';");
  });

  it('needs no token and spends no rate-limit budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push(
        (await app.request('GET', '/docs/openapi.json')).status,
        (await app.request('GET', '/docs')).status,
      );
    }
    expect(statuses.every((status) => status === 200)).toBe(true);
    // The global per-IP limit (3 a minute here) is real for the API.
    const jwks: number[] = [];
    for (let i = 0; i < 4; i++) jwks.push((await app.request('GET', '/.well-known/jwks.json')).status);
    expect(jwks).toEqual([200, 200, 200, 429]);
  });
});
