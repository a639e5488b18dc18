import type { Writable } from 'node:stream';
import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino, { Logger } from 'pino';
import { AppConfig } from '../config/app-config';

/** The pino logger every line goes through: Nest's own (through nestjs-pino) and one per finished request. */
export abstract class RequestLog {
  abstract readonly logger: Logger;
}

/**
 * pino through nestjs-pino, JSON lines to `stream` or stdout, pretty in development on stdout.
 * nestjs-pino's per-request middleware is not bound (`forRoutes: []`): it keeps each request's
 * logger in an AsyncLocalStorage, whose promise hooks cost about a tenth of the service's CPU per
 * request (docs/performance.md). The request line is written by the app's onResponse hook, and a
 * line about a request names its `requestId`.
 */
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig, stream?: Writable): DynamicModule {
    const logger = pino(
      {
        level: config.logLevel,
        // Request lines carry no headers; this holds if one is ever logged.
        redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
        ...(config.env === 'development' && !stream
          ? { transport: { target: 'pino-pretty', options: { singleLine: true, ignore: 'pid,hostname' } } }
          : {}),
      },
      stream,
    );
    return {
      module: LoggingModule,
      imports: [LoggerModule.forRoot({ pinoHttp: { logger }, forRoutes: [] })],
      providers: [{ provide: RequestLog, useValue: { logger } }],
      exports: [RequestLog],
    };
  }
}

/** One line per finished request: id, method, path (never the query: a sign-in link carries its code), status, time. */
export function logRequest(
  logger: Logger,
  request: { id: string; method: string; url: string },
  status: number,
  responseTimeMs: number,
): void {
  const query = request.url.indexOf('?');
  const line = {
    req: { id: request.id, method: request.method, path: query === -1 ? request.url : request.url.slice(0, query) },
    res: { status },
    responseTime: Math.round(responseTimeMs),
  };
  if (status >= 500) logger.error(line, 'request errored');
  else logger.info(line, 'request completed');
}
