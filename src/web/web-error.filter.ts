import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toProblem } from '../common/problem-details';
import { SignInPages } from './sign-in-pages';

const HEADINGS: Record<number, string> = { 403: 'This form has expired', 404: 'Not found', 429: 'Too many attempts' };

/** Errors on the pages are pages too, with the same status and headers as the API's problems. */
@Catch()
export class WebErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(private readonly pages: SignInPages) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const problem = toProblem(error);
    if (problem.unexpected) {
      const requestId = host.switchToHttp().getRequest<FastifyRequest>().id;
      this.logger.error({
        msg: `page failed: ${(error as Error)?.message}`,
        requestId,
        stack: (error as Error)?.stack,
      });
    }
    const heading = HEADINGS[problem.status] ?? (problem.status >= 500 ? 'Something went wrong' : 'That did not work');
    const message = problem.status === 429 ? this.pages.explain(error) : String(problem.body.detail);
    const headers = { ...problem.headers };
    delete headers['www-authenticate'];
    reply
      .status(problem.status)
      .headers(headers)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(this.pages.error(heading, message));
  }
}
