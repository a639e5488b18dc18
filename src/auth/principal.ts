import { Principal } from '../common/principal';

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
