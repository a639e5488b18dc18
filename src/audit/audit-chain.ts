import { Secrets } from '../common/secrets';
import { AuditAnchor } from './audit-anchor.entity';
import { AuditEvent } from './audit-event.entity';

/** The seal before the first event of a trail that was never pruned. */
export const GENESIS_SEAL = '0'.repeat(64);

/** Every field of an event, in a fixed order, with the details' keys sorted. */
export function canonicalEvent(event: AuditEvent): string {
  return JSON.stringify([
    String(event.chainIndex),
    String(event.id),
    new Date(event.at).toISOString(),
    event.type,
    event.userId,
    event.email,
    event.ip,
    event.userAgent,
    event.sessionId,
    event.requestId,
    sortKeys(parseDetails(event.details)),
  ]);
}

export function sealEvent(secrets: Secrets, previousSeal: string, event: AuditEvent): string {
  return secrets.auditSeal(previousSeal, canonicalEvent(event));
}

export function sealAnchor(secrets: Secrets, anchor: Pick<AuditAnchor, 'kind' | 'chainIndex' | 'seal'>): string {
  return secrets.auditSeal(`anchor:${anchor.kind}`, `${anchor.chainIndex}:${anchor.seal}`);
}

function parseDetails(details: unknown): unknown {
  return typeof details === 'string' ? JSON.parse(details) : details;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
