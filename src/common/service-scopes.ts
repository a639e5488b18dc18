/** Every scope a service token can carry; the CLI refuses others, and routes name only these. */
export const SERVICE_SCOPES = ['audit:read', 'tokens:introspect', 'users:read'] as const;

export type ServiceScope = (typeof SERVICE_SCOPES)[number];

export function isServiceScope(scope: string): scope is ServiceScope {
  return (SERVICE_SCOPES as readonly string[]).includes(scope);
}
