import type { IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino, { SerializedRequest, SerializedResponse } from 'pino';
import type { Options } from 'pino-http';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';

/** The raw request carries the id Fastify gave it (X-Request-Id when sane), so every log line of a request names it. */
export type RequestWithId = IncomingMessage & { requestId?: string };

/**
 * pino through nestjs-pino: one line per finished request (pino-http) and Nest's own log calls,
 * both JSON lines to `stream` or stdout, pretty in development on stdout. A line written while a
 * request is handled carries that request's `req`.
 */
@Module({})
export class LoggingModule {
  static forRoot(stream?: Writable): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => ({ pinoHttp: requestLogOptions(config, stream) }),
        }),
      ],
    };
  }
}

export function requestLogOptions(config: AppConfig, stream?: Writable): Options {
  const logger = pino(
    {
      level: config.logLevel,
      // The serializers below already leave headers out; this holds if they ever let them in.
      redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      ...(config.env === 'development' && !stream
        ? { transport: { target: 'pino-pretty', options: { singleLine: true, ignore: 'pid,hostname' } } }
        : {}),
    },
    stream,
  );
  return {
    logger,
    genReqId: (request) => (request as RequestWithId).requestId ?? randomUUID(),
    // Method, path and id; never the query (a sign-in link carries its code there) nor headers.
    serializers: {
      req: (request: SerializedRequest) => ({ id: request.id, method: request.method, path: pathOf(request.url) }),
      res: (response: SerializedResponse) => ({ status: response.statusCode }),
    },
    customLogLevel: (_request, response, error) => (error || response.statusCode >= 500 ? 'error' : 'info'),
    // pino-http makes up an Error for every 5xx; the real one is logged where it was caught.
    customErrorObject: (_request, _response, _error, fields: { res: unknown; responseTime: number }) => ({
      res: fields.res,
      responseTime: fields.responseTime,
    }),
  };
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
