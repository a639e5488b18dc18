import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '../config/app-config';
import { problemResponses } from '../common/openapi';
import { Problem } from '../common/problem.response';

const DOCS_PATH = 'docs';

/** GET /docs (Swagger UI) and GET /docs/openapi.json, public and outside the rate limits. */
export function setupOpenApi(app: NestFastifyApplication, config: AppConfig): void {
  const options = new DocumentBuilder()
    .setTitle('OTP login service')
    .setDescription(
      'Email one-time-code sign-in, sessions and tokens. Every error is an RFC 9457 problem document (application/problem+json) with a stable `code`.',
    )
    .setVersion(packageVersion())
    .addServer(config.http.publicUrl)
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'An access token from verify or refresh, or a service token.',
    })
    .build();
  const document = withInternalErrors(SwaggerModule.createDocument(app, options, { extraModels: [Problem] }));
  SwaggerModule.setup(DOCS_PATH, app, document, {
    jsonDocumentUrl: `${DOCS_PATH}/openapi.json`,
    raw: ['json'],
    customSiteTitle: 'OTP login service API',
    swaggerOptions: { validatorUrl: null },
  });

  // Swagger UI's page has inline <style> blocks and style attributes; everything else keeps the app's policy.
  const csp = docsContentSecurityPolicy(config.http.publicUrl);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      if (isDocsUrl(request.url)) reply.header('content-security-policy', csp);
      return payload;
    });
}

function docsContentSecurityPolicy(publicUrl: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    `connect-src 'self' ${new URL(publicUrl).origin}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}

function isDocsUrl(url: string): boolean {
  return /^\/docs(?:[/?]|$)/.test(url);
}

/** Any operation can fail on our side: say so once here instead of on every route. */
function withInternalErrors(document: OpenAPIObject): OpenAPIObject {
  const [{ status, ...response }] = problemResponses(['internal_error']);
  for (const item of Object.values(document.paths)) {
    for (const operation of [item.get, item.put, item.post, item.delete, item.patch]) {
      if (operation) operation.responses[String(status)] ??= response as (typeof operation.responses)[string];
    }
  }
  return document;
}

/** package.json's version, found from both src/ (tests) and dist/src/ (built). */
function packageVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return '0.0.0';
}
