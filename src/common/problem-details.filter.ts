import { ArgumentsHost, Catch, ExceptionFilter, Logger, NotFoundException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MethodIndex } from './method-index';
import { toProblem } from './problem-details';
import { ProblemException } from './problem.exception';

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(private readonly methods: MethodIndex) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    sendProblem(request, http.getResponse<FastifyReply>(), this.asMethodNotAllowed(error, request), this.logger);
  }

  private asMethodNotAllowed(error: unknown, request: FastifyRequest): unknown {
    if (!(error instanceof NotFoundException)) return error;
    const allowed = this.methods.allowedMethods(request.url.split('?')[0]);
    // A wildcard route (static files) may know the method but not this path.
    if (allowed.length === 0 || allowed.includes(request.method)) return error;
    return new ProblemException('method_not_allowed', `${request.method} is not supported here.`, {
      headers: { allow: allowed.join(', ') },
    });
  }
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: unknown, logger: Logger): void {
  const problem = toProblem(error, request.id);
  if (problem.unexpected) {
    logger.error({
      msg: `${request.method} ${request.routeOptions?.url ?? 'unknown route'} failed: ${describe(error)}`,
      requestId: request.id,
      stack: (error as Error)?.stack,
    });
  }
  if (reply.sent) return;
  reply
    .status(problem.status)
    .headers(problem.headers)
    .header('x-request-id', request.id)
    .header('content-type', 'application/problem+json')
    .send(JSON.stringify(problem.body));
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
