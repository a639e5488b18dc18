import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { Secrets } from '../common/secrets';
import { AuditAnchor } from './audit-anchor.entity';
import {
  canonicalEvent,
  fingerprint,
  GENESIS_SEAL,
  IdRange,
  idsIn,
  LATE_COMMIT_MS,
  parseRanges,
  roundMac,
  sealAnchor,
  sealLegacyEvent,
  WaitingRange,
} from './audit-chain';
import { AuditEvent } from './audit-event.entity';
import { AuditSeal } from './audit-seal.entity';
import { AuditRepository, RANGES_PER_QUERY } from './audit.repository';

const ROUND_BATCH = 1000;
/** Events held in memory at once while rounds are checked. */
const EVENT_BATCH = 20_000;
const LEGACY_BATCH = 5000;
const ID_SCAN_BATCH = 10_000;
const PROGRESS_EVERY = 100_000;

export interface ChainReport {
  ok: boolean;
  /** Events whose seal was checked. */
  checked: number;
  rounds: { first: string; last: string } | null;
  problem?: string;
}

class BrokenChain extends Error {}

/**
 * Walks the chain: the events sealed one by one before rounds, then every round in order,
 * recomputing each MAC from the events it names; then every event outside the chain must be
 * one a round is still waiting for, and young. Names the first broken link.
 */
@Injectable()
export class AuditVerifier {
  constructor(
    private readonly events: AuditRepository,
    private readonly secrets: Secrets,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  async verify(onProgress: (checked: number) => void = () => {}): Promise<ChainReport> {
    let checked = 0;
    let rounds: ChainReport['rounds'] = null;
    const progress = (count: number) => {
      if (Math.floor((checked + count) / PROGRESS_EVERY) > Math.floor(checked / PROGRESS_EVERY))
        onProgress(checked + count);
      checked += count;
    };
    try {
      const [legacyStart, legacyHead, roundStart] = await Promise.all(
        (['start', 'head', 'round'] as const).map((kind) => this.events.latestAnchor(kind)),
      );
      for (const anchor of [legacyStart, legacyHead, roundStart]) if (anchor) this.checkAnchor(anchor);
      const legacyEnd = await this.verifyLegacy(legacyStart, legacyHead, progress);
      const walk = await this.verifyRounds(roundStart, legacyEnd, progress);
      rounds = walk.first ? { first: walk.first, last: String(walk.last!.round) } : null;
      await this.checkOutsideRounds(walk.sealed, walk.last);
      return { ok: true, checked, rounds };
    } catch (error) {
      if (!(error instanceof BrokenChain)) throw error;
      return { ok: false, checked, rounds, problem: error.message };
    }
  }

  private checkAnchor(anchor: AuditAnchor): void {
    const keyIds = anchor.keyId ? [anchor.keyId] : this.secrets.auditKeyIds();
    if (!keyIds.some((keyId) => sealAnchor(this.secrets, anchor, keyId) === anchor.anchorSeal))
      throw new BrokenChain(`the ${anchor.kind} anchor at ${anchor.chainIndex} was altered`);
  }

  /** The events sealed one by one before rounds; returns where rounds continue from. */
  private async verifyLegacy(
    start: AuditAnchor | null,
    head: AuditAnchor | null,
    progress: (count: number) => void,
  ): Promise<string> {
    let seal = start?.seal ?? GENESIS_SEAL;
    let expected = BigInt(start?.chainIndex ?? 0) + 1n;
    const keyIds = this.secrets.auditKeyIds();
    for (;;) {
      const batch = await this.events.chainFrom(expected, LEGACY_BATCH);
      for (const event of batch) {
        if (BigInt(event.chainIndex!) !== expected)
          throw new BrokenChain(`chain index ${expected} is missing before event ${event.id}: an event was deleted`);
        if (!keyIds.some((keyId) => sealLegacyEvent(this.secrets, seal, event, keyId) === event.seal))
          throw new BrokenChain(`event ${event.id} (chain index ${expected}) does not match its seal: it was changed`);
        seal = event.seal!;
        expected++;
      }
      progress(batch.length);
      if (batch.length < LEGACY_BATCH) break;
    }
    if (head && expected - 1n < BigInt(head.chainIndex))
      throw new BrokenChain(
        `the chain ends at index ${expected - 1n} but was sealed up to ${head.chainIndex}: the newest events were deleted`,
      );
    return seal;
  }

  private async verifyRounds(
    anchor: AuditAnchor | null,
    legacySeal: string,
    progress: (count: number) => void,
  ): Promise<{ sealed: IdRange[]; first?: string; last?: AuditSeal }> {
    let mac = anchor?.seal ?? legacySeal;
    let expected = BigInt(anchor?.chainIndex ?? 0) + 1n;
    const sealed: IdRange[] = [];
    let first: string | undefined;
    let last: AuditSeal | undefined;
    for (let from = 0n; ;) {
      const batch = await this.events.roundsFrom(from, ROUND_BATCH);
      for (const group of groupsOf(batch)) {
        // Consecutive rounds' ranges joined: unjoined, 100,000 rounds of 10 events took 3 times as long.
        const events = await this.eventsIn(merged(group.flatMap((round) => parseRanges(round.events))));
        for (const round of group) {
          const ranges = parseRanges(round.events);
          sealed.push(...ranges);
          last = round;
          // Rounds at or before the anchor are being pruned: their events count as sealed.
          if (BigInt(round.round) < expected) continue;
          if (BigInt(round.round) !== expected)
            throw new BrokenChain(`round ${expected} is missing before round ${round.round}: its seal was deleted`);
          mac = this.verifyRound(round, ranges, events, mac);
          first ??= String(round.round);
          expected++;
          progress(round.eventCount);
        }
      }
      if (batch.length < ROUND_BATCH) break;
      from = BigInt(batch[batch.length - 1].round) + 1n;
    }
    if (anchor && !first)
      throw new BrokenChain(`the rounds after ${anchor.chainIndex} were deleted, with their events`);
    return { sealed, first, last };
  }

  private verifyRound(round: AuditSeal, ranges: IdRange[], events: Map<number, AuditEvent>, previousMac: string) {
    const ids = [...idsIn(ranges)];
    const canonical = ids.map((id) => {
      const event = events.get(id);
      if (!event) throw new BrokenChain(`event ${id} (round ${round.round}) is missing: it was deleted`);
      return canonicalEvent(event);
    });
    const mac = roundMac(this.secrets, previousMac, round, canonical);
    if (mac === undefined)
      throw new BrokenChain(
        `round ${round.round} was sealed with key ${round.keyId}, which is neither SECRET_KEY nor in SECRET_KEY_PREVIOUS`,
      );
    if (mac === round.mac) return mac;
    const changed = ids.find((_, i) => fingerprint(canonical[i]) !== round.fingerprints.slice(8 * i, 8 * i + 8));
    throw new BrokenChain(
      changed === undefined
        ? `round ${round.round} does not match its MAC: the round's record was altered`
        : `event ${changed} (round ${round.round}) does not match its seal: it was changed`,
    );
  }

  /**
   * Every event outside the chain is one the last round is still waiting for, and younger than a
   * late commit can be; anything else was inserted around the service.
   */
  private async checkOutsideRounds(sealed: IdRange[], last: AuditSeal | undefined) {
    const covered = merged(sealed);
    // Before the first round, every event outside the legacy chain is waiting for it.
    const horizon = last ? Number(last.horizon) : 0;
    const waiting = last ? (JSON.parse(last.waiting) as WaitingRange[]) : [];
    const pending: number[] = [];
    let next = 0;
    for (let after: number | undefined; ;) {
      const batch = await this.events.eventIdsAfter(after, ID_SCAN_BATCH);
      for (const { id, legacy } of batch) {
        if (legacy) continue;
        while (next < covered.length && covered[next][1] < id) next++;
        if (next < covered.length && covered[next][0] <= id) continue;
        if (id > horizon || waiting.some(([from, to]) => id >= from && id <= to)) pending.push(id);
        else throw new BrokenChain(`event ${id} was never sealed: it was not written by the service`);
      }
      if (batch.length < ID_SCAN_BATCH) break;
      after = batch[batch.length - 1].id;
    }
    const tooOld = this.clock.now() - LATE_COMMIT_MS;
    const oldest = (await this.eventsIn(merged(pending.slice(0, RANGES_PER_QUERY).map((id) => [id, id])))).values();
    for (const event of oldest)
      if (new Date(event.at).getTime() < tooOld)
        throw new BrokenChain(`event ${event.id} was never sealed: it was not written by the service`);
  }

  private async eventsIn(ranges: IdRange[]): Promise<Map<number, AuditEvent>> {
    const events = new Map<number, AuditEvent>();
    for (let i = 0; i < ranges.length; i += RANGES_PER_QUERY)
      for (const event of await this.events.eventsIn(ranges.slice(i, i + RANGES_PER_QUERY)))
        events.set(Number(event.id), event);
    return events;
  }
}

/** Consecutive rounds holding at most EVENT_BATCH events together (a bigger round alone). */
function* groupsOf(rounds: AuditSeal[]): Generator<AuditSeal[]> {
  let group: AuditSeal[] = [];
  let size = 0;
  for (const round of rounds) {
    if (group.length > 0 && size + round.eventCount > EVENT_BATCH) {
      yield group;
      group = [];
      size = 0;
    }
    group.push(round);
    size += round.eventCount;
  }
  if (group.length > 0) yield group;
}

function merged(ranges: IdRange[]): IdRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const result: IdRange[] = [];
  for (const [from, to] of sorted) {
    const last = result[result.length - 1];
    if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else result.push([from, to]);
  }
  return result;
}
