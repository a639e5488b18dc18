import { IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';
import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';

/** The raw request carries the id Fastify gave it, so every log line of a request names it. */
export type RequestWithId = IncomingMessage & { requestId?: string };

/**
 * Structured JSON logs (pino), pretty in development. A request is logged by method, path
 * (never the query: a sign-in link carries a code there), status and time; headers never.
 */
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig, stream?: Writable): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            stream,
            transport: config.env === 'development' && !stream ? { target: 'pino-pretty', options: { singleLine: true, ignore: 'pid,hostname' } } : undefined,
            genReqId: (request: RequestWithId) => request.requestId ?? 'unknown',
            serializers: {
              req: (request: { id: string; method: string; url: string }) => ({ id: request.id, method: request.method, path: request.url.split('?')[0] }),
              res: (response: { statusCode: number }) => ({ status: response.statusCode }),
            },
            customLogLevel: (_request, response, error) => (error || response.statusCode >= 500 ? 'error' : 'info'),
            redact: { paths: ['req.headers', 'res.headers'], remove: true },
          },
        }),
      ],
    };
  }
}
