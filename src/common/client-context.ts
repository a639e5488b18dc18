import { isIP } from 'node:net';
import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { storableText } from './text';

/** Who is asking: recorded with every audit event. */
export interface ClientContext {
  ip: string;
  userAgent: string | null;
  requestId: string;
  locale: string | null;
  /** The OpenID client the user is signing in to, when the sign-in started at one of the operator's apps. */
  oidcClientId?: string;
}

/** The user_agent columns (sessions, audit_events). */
const MAX_USER_AGENT = 512;
const MAX_LOCALE = 200;
/** For a request whose socket closed before anyone asked for its peer. */
const UNKNOWN_ADDRESS = '0.0.0.0';

/** `details.clientId` of a sign-in's events, when it signs in to an OpenID client. */
export function clientIdOf(client: ClientContext): { clientId?: string } {
  return client.oidcClientId ? { clientId: client.oidcClientId } : {};
}

export function clientContextOf(request: FastifyRequest): ClientContext {
  const userAgent = request.headers['user-agent'];
  const language = request.headers['accept-language'];
  return {
    ip: clientAddressOf(request),
    userAgent: typeof userAgent === 'string' ? storableText(userAgent, MAX_USER_AGENT) : null,
    requestId: request.id,
    locale: typeof language === 'string' ? language.slice(0, MAX_LOCALE) : null,
  };
}

/**
 * The client's IP address, the one rule for the audit trail, sessions and the per-IP limits:
 * the address Fastify derived under TRUST_PROXY when it is an IP address, otherwise (an
 * X-Forwarded-For entry with anything else in it) the socket's peer.
 */
export function clientAddressOf(request: Pick<FastifyRequest, 'ip' | 'socket'>): string {
  return ipAddress(request.ip) ?? ipAddress(request.socket?.remoteAddress) ?? UNKNOWN_ADDRESS;
}

/** The address without a zone index (`fe80::1%eth0`), which may be any length; undefined when not an IP address. */
function ipAddress(value: string | undefined): string | undefined {
  const address = typeof value === 'string' ? value.split('%')[0] : '';
  return isIP(address) ? address : undefined;
}

export const Client = createParamDecorator((_: unknown, context: ExecutionContext) =>
  clientContextOf(context.switchToHttp().getRequest<FastifyRequest>()),
);
