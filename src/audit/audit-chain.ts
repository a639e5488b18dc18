import { createHash } from 'node:crypto';
import { Secrets } from '../common/secrets';
import { AuditAnchor } from './audit-anchor.entity';
import { AuditEvent } from './audit-event.entity';
import { AuditSeal } from './audit-seal.entity';

/** The seal before the first event of a trail that was never pruned. */
export const GENESIS_SEAL = '0'.repeat(64);

/**
 * How long an id drawn but not yet committed is waited for. Transactions end within the pool's
 * statement timeout (seconds); an event committed later than this was not written by the service.
 */
export const LATE_COMMIT_MS = 5 * 60_000;

/** `[from, to]`, both included. */
export type IdRange = [number, number];
/** Ids not committed yet, and since when (epoch ms) the sealer has been waiting for them. */
export type WaitingRange = [number, number, number];

/** Every field of an event, in a fixed order, with the details' keys sorted. */
export function canonicalEvent(event: Omit<AuditEvent, 'chainIndex' | 'seal'>, ...prefix: string[]): string {
  return JSON.stringify([
    ...prefix,
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

/** The form sealed one by one before rounds (chain_index and seal on the event row). */
export function sealLegacyEvent(
  secrets: Secrets,
  previousSeal: string,
  event: AuditEvent,
  keyId?: string,
): string | undefined {
  return secrets.auditSeal(previousSeal, canonicalEvent(event, String(event.chainIndex)), keyId);
}

export function sealAnchor(
  secrets: Secrets,
  anchor: Pick<AuditAnchor, 'kind' | 'chainIndex' | 'seal'>,
  keyId?: string,
): string | undefined {
  return secrets.auditSeal(`anchor:${anchor.kind}`, `${anchor.chainIndex}:${anchor.seal}`, keyId);
}

/** A round's MAC: its header, then each of its events in order, chained to the previous round's MAC. */
export function roundMac(
  secrets: Secrets,
  previousMac: string,
  round: Omit<AuditSeal, 'mac' | 'fingerprints'>,
  canonicalEvents: string[],
): string | undefined {
  const hmac = secrets.auditHmac(round.keyId);
  if (!hmac) return undefined;
  const header = [
    String(round.round),
    round.keyId,
    new Date(round.sealedAt).toISOString(),
    round.events,
    round.eventCount,
    String(round.horizon),
    round.waiting,
  ];
  hmac.update(previousMac).update('\n').update(JSON.stringify(header));
  for (const event of canonicalEvents) hmac.update('\n').update(event);
  return hmac.digest('hex');
}

export function fingerprint(canonicalEvent: string): string {
  return createHash('sha256').update(canonicalEvent).digest('hex').slice(0, 8);
}

/** Ascending ids as `1-5,7,9-10`. */
export function formatRanges(ids: number[]): string {
  return toRanges(ids)
    .map(([from, to]) => (from === to ? `${from}` : `${from}-${to}`))
    .join(',');
}

export function parseRanges(text: string): IdRange[] {
  if (text === '') return [];
  return text.split(',').map((part) => {
    const [from, to = from] = part.split('-').map(Number);
    return [from, to];
  });
}

export function* idsIn(ranges: IdRange[]): Generator<number> {
  for (const [from, to] of ranges) for (let id = from; id <= to; id++) yield id;
}

/**
 * What the sealer waits for after a round that found `found` (ascending) above `horizon` or
 * among `waiting`: the ids still missing below the new horizon, each with when it was first
 * missed; those missing longer than LATE_COMMIT_MS are given up.
 */
export function nextWaiting(
  horizon: number,
  waiting: WaitingRange[],
  found: number[],
  now: number,
): { horizon: number; waiting: WaitingRange[] } {
  const still: WaitingRange[] = [];
  const keep = (from: number, to: number, since: number) => {
    if (from > to || since < now - LATE_COMMIT_MS) return;
    const last = still[still.length - 1];
    if (last && last[1] + 1 === from && last[2] === since) last[1] = to;
    else still.push([from, to, since]);
  };
  const missing = (from: number, to: number, since: number) => {
    let start = from;
    for (const id of found) {
      if (id < from || id > to) continue;
      keep(start, id - 1, since);
      start = id + 1;
    }
    keep(start, to, since);
  };
  for (const [from, to, since] of waiting) missing(from, to, since);
  const newHorizon = Math.max(horizon, found[found.length - 1] ?? horizon);
  missing(horizon + 1, newHorizon, now);
  return { horizon: newHorizon, waiting: still };
}

function toRanges(ids: number[]): IdRange[] {
  const ranges: IdRange[] = [];
  for (const id of ids) {
    const last = ranges[ranges.length - 1];
    if (last && last[1] + 1 === id) last[1] = id;
    else ranges.push([id, id]);
  }
  return ranges;
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
