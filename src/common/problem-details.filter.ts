import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toProblem } from './problem-details';

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), error, this.logger);
  }
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: unknown, logger: Logger): void {
  const problem = toProblem(error, request.id);
  if (problem.unexpected) logger.error(`${request.method} ${request.routeOptions?.url ?? 'unknown route'} failed: ${describe(error)}`, (error as Error)?.stack);
  if (reply.sent) return;
  reply.status(problem.status).headers(problem.headers).header('content-type', 'application/problem+json').send(JSON.stringify(problem.body));
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
