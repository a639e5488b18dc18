import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Who is asking: recorded with every audit event. */
export interface ClientContext {
  ip: string;
  userAgent: string | null;
  requestId: string;
  locale: string | null;
}

const MAX_USER_AGENT = 512;

export function clientContextOf(request: FastifyRequest): ClientContext {
  const userAgent = request.headers['user-agent'];
  const language = request.headers['accept-language'];
  return {
    ip: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, MAX_USER_AGENT) : null,
    requestId: request.id,
    locale: typeof language === 'string' ? language.slice(0, 200) : null,
  };
}

export const Client = createParamDecorator((_: unknown, context: ExecutionContext) =>
  clientContextOf(context.switchToHttp().getRequest<FastifyRequest>()),
);
