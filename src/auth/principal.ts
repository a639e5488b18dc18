import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';

/** Who a verified access token speaks for: a signed-in user, or an internal service. */
export interface Principal {
  subject: string;
  userId: string | null;
  sessionId: string | null;
  email: string | null;
  roles: string[];
  scopes: string[];
}

/** Whom an access token's verified claims speak for, or null when they are not an access token's. */
export function principalOf(payload: Record<string, unknown>): Principal | null {
  if (typeof payload.sub !== 'string') return null;
  const isService = payload.sub.startsWith('service:');
  return {
    subject: payload.sub,
    userId: isService ? null : payload.sub,
    sessionId: typeof payload.sid === 'string' ? payload.sid : null,
    email: typeof payload.email === 'string' ? payload.email : null,
    roles: Array.isArray(payload.roles) ? payload.roles.filter((role): role is string => typeof role === 'string') : [],
    scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
  };
}

export const IS_PUBLIC = 'isPublic';

/** The route answers without a bearer token. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

export const CurrentPrincipal = createParamDecorator(
  (_: unknown, context: ExecutionContext): Principal => context.switchToHttp().getRequest<{ user: Principal }>().user,
);
