import { IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';
import { LoggerService } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import pino, { Level, Logger } from 'pino';
import { AppConfig } from '../config/app-config';

/** The raw request carries the id Fastify gave it, so every log line of a request names it. */
export type RequestWithId = IncomingMessage & { requestId?: string };

/** Structured JSON lines (pino) to `stream` or stdout; pretty in development on a terminal. */
export function createAppLogger(config: AppConfig, stream?: Writable): Logger {
  const options = { level: config.logLevel };
  if (stream) return pino(options, stream);
  if (config.env === 'development')
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { singleLine: true, ignore: 'pid,hostname' } },
    });
  return pino(options);
}

/**
 * One line per finished request: method, path (never the query: a sign-in link carries a code
 * there), status and time; headers never. Written from Fastify's onResponse hook rather than a
 * middleware, so a request that is not logged at the configured level costs one level check.
 */
export function logRequest(logger: Logger, request: FastifyRequest, reply: FastifyReply): void {
  const level: Level = reply.statusCode >= 500 ? 'error' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  const req = { id: request.id, method: request.method, path: request.url.split('?')[0] };
  logger[level](
    { req, res: { status: reply.statusCode }, responseTime: Math.round(reply.elapsedTime) },
    'request completed',
  );
}

/** Nest's log calls (`logger.warn(message, context)`) as pino lines with a `context` field. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const context =
      params.length > 0 && typeof params[params.length - 1] === 'string' ? (params.pop() as string) : undefined;
    const stack = level === 'error' && typeof params[0] === 'string' ? params[0] : undefined;
    if (message instanceof Error) this.logger[level]({ context, err: message }, message.message);
    else if (message !== null && typeof message === 'object') this.logger[level]({ context, ...message });
    else this.logger[level]({ context, stack }, String(message));
  }
}
