const SECRET_LENGTH = 32;
const ADDRESS_LENGTH = 16;
const URL_SAFE = /^[A-Za-z0-9_-]+$/;

/**
 * The `sessionId` of a one-time-code login: its random secret followed by the address key, so
 * any instance finds the address's state (and, on Redis Cluster, its slot) from the id alone.
 */
export interface LoginId {
  secret: string;
  address: string;
}

export function formatLoginId(id: LoginId): string {
  return id.secret + id.address;
}

export function parseLoginId(sessionId: string): LoginId | null {
  if (sessionId.length !== SECRET_LENGTH + ADDRESS_LENGTH || !URL_SAFE.test(sessionId)) return null;
  return { secret: sessionId.slice(0, SECRET_LENGTH), address: sessionId.slice(SECRET_LENGTH) };
}
