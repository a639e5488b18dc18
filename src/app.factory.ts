import { Logger, LoggerService } from '@nestjs/common';
import { Logger as NestjsPinoLogger } from 'nestjs-pino';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import cookie from '@fastify/cookie';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppModule } from './app.module';
import { loadSigningKeys } from './auth/signing-keys';
import { assertMailLocalesShipped } from './mail/mail.service';
import { AppConfig } from './config/app-config';
import { toProblem } from './common/problem-details';
import { ProblemDetailsFilter, sendProblem } from './common/problem-details.filter';
import { MethodIndex } from './common/method-index';
import { ProblemException } from './common/problem.exception';
import { securityHeaders } from './common/security-headers';
import { StrictValidationPipe } from './common/validation.pipe';
import { setupOpenApi } from './docs/openapi';
import { OidcProvider } from './oidc-provider/oidc-provider.service';
import { registerOidcRoutes } from './oidc-provider/oidc-routes';
import { Metrics } from './metrics/metrics';
import { logRequest, RequestLog } from './logging/logging.module';
import type { IncomingMessage } from 'node:http';

const BODY_LIMIT_BYTES = 16 * 1024;
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Builds the HTTP application: adapter, hooks, global pipe and filter. Used by main.ts and the tests. */
export interface AppLogging {
  /** Nest's own log lines; default: pino, as the request lines. `false` silences them. */
  logger?: LoggerService | false;
  /** Where pino writes (request lines and, by default, Nest's lines); default: stdout. */
  logStream?: Writable;
}

export async function createApp(
  config: AppConfig,
  { logger, logStream }: AppLogging = {},
): Promise<NestFastifyApplication> {
  const errorLogger = new Logger('Errors');
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.http.trustProxy,
    genReqId: (request: IncomingMessage) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Errors Fastify raises before Nest sees the request (malformed URL, broken HTTP).
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) =>
      sendProblem(request, reply, error, errorLogger),
    clientErrorHandler: (_error: Error, socket: Socket) => {
      if (!socket.writable) return socket.destroy();
      const body = JSON.stringify(
        toProblem(new ProblemException('validation_failed', 'The HTTP request is malformed.')).body,
      );
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${randomUUID()}\r\nConnection: close\r\n\r\n${body}`,
      );
    },
  });
  // Everything that can be wrong with the configuration fails here, before Nest starts logging.
  assertMailLocalesShipped(config.mail.locales);
  const signingKeys = loadSigningKeys(config.jwt);
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, signingKeys, logStream),
    adapter,
    { bufferLogs: true, abortOnError: false },
  );
  app.useLogger(logger ?? app.get(NestjsPinoLogger));
  const fastify = app.getHttpAdapter().getInstance();
  const methods = new MethodIndex();
  fastify.addHook('onRoute', (route) => methods.add(route.method, route.url));

  const headers = securityHeaders(config.env === 'production');
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    reply.headers(headers);
    reply.header('x-request-id', request.id);
    // The route the router chose, not the raw URL, which may spell the same path as `/%61pi/...`.
    if (request.routeOptions.url?.startsWith('/api/')) {
      reply.header('cache-control', 'no-store');
      if (hasBody(request) && !isJson(request.headers['content-type'])) {
        throw new ProblemException('unsupported_media_type', 'Send the request body as application/json.');
      }
    }
  });

  await app.register(cookie);
  if (config.http.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.http.corsOrigins,
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
      exposedHeaders: ['x-request-id', 'retry-after', 'www-authenticate'],
      maxAge: 600,
    });
  }

  registerOidcRoutes(fastify, app.get(OidcProvider));

  const metrics = app.get(Metrics);
  const requestLog = app.get(RequestLog).logger;
  fastify.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    };
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    logRequest(requestLog, request, reply.statusCode, reply.elapsedTime);
  });

  setupOpenApi(app, config);
  app.useGlobalPipes(new StrictValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter(methods));
  return app;
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/(?:[\w.+-]+\+)?json\s*(;|$)/i.test(contentType);
}
