import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientAddressOf, clientContextOf } from '../common/client-context';
import { OidcProvider } from './oidc-provider.service';

/** The library's endpoints; `/oidc/interaction/*` and `/oidc/me` are Nest controllers. */
const LIBRARY_PATHS = [
  '/.well-known/openid-configuration',
  '/oidc/auth',
  '/oidc/auth/:uid',
  '/oidc/token',
  '/oidc/token/revocation',
  '/oidc/session/end',
  '/oidc/session/end/confirm',
  '/oidc/session/end/success',
];

const BROWSER_PATHS = /^\/oidc\/(auth|session)(\/|\?|$)/;

/**
 * Routes the library's endpoints to it, in a Fastify context of their own that leaves the body
 * unread (the library parses it, and refuses duplicated parameters). Our response headers
 * (X-Request-Id, CSP, …) go on the raw response before the library writes it.
 */
export function registerOidcRoutes(fastify: FastifyInstance, oidc: OidcProvider): void {
  void fastify.register(async (routes) => {
    routes.removeAllContentTypeParsers();
    routes.addContentTypeParser('*', (_request: FastifyRequest, _payload: unknown, done: (error: null) => void) =>
      done(null),
    );
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      if (BROWSER_PATHS.test(request.url)) {
        const retryAfter = await oidc.refusedForRate(clientAddressOf(request));
        if (retryAfter !== undefined)
          return reply
            .status(429)
            .header('retry-after', String(retryAfter))
            .send({ error: 'rate_limited', error_description: 'Too many requests from this client; try again later.' });
      }
      reply.hijack();
      for (const [name, value] of Object.entries(reply.getHeaders()))
        if (value !== undefined) reply.raw.setHeader(name, value);
      await oidc.handle(request.raw, reply.raw, {
        client: clientContextOf(request),
        basicAuth: /^basic /i.test(request.headers.authorization ?? ''),
      });
    };
    for (const url of LIBRARY_PATHS) routes.route({ method: ['GET', 'POST', 'OPTIONS'], url, handler });
  });
}
