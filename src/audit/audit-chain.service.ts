import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { Clock } from '../common/clock';
import { Secrets } from '../common/secrets';
import { JobLock } from '../store/job-lock';
import {
  canonicalEvent,
  fingerprint,
  formatRanges,
  GENESIS_SEAL,
  nextWaiting,
  parseRanges,
  roundMac,
  sealAnchor,
  WaitingRange,
} from './audit-chain';
import { AuditSeal } from './audit-seal.entity';
import { AuditRepository } from './audit.repository';

const SEAL_EVERY_MS = 1000;
const SEAL_BATCH = 1000;
const PRUNE_ROUNDS = 100;
const PRUNE_LEGACY_BATCH = 1000;

/** Where the next round continues: the last round's MAC, horizon and waiting ids. */
interface ChainState {
  round: bigint;
  mac: string;
  horizon: number;
  waiting: WaitingRange[];
}

/**
 * Makes the audit trail tamper-evident without changing an event. Requests only insert events;
 * every second one instance (whoever holds the lock) inserts a round: the events committed since
 * the last one, with an HMAC over them and the previous round's. The round's primary key refuses
 * a second sealer of the same round. Ids are drawn before commit, so an event may become visible
 * after a higher id was sealed: the round records the ids it is still waiting for, and a later
 * round seals them.
 */
@Injectable()
export class AuditChainService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('AuditChain');
  private running?: Promise<unknown>;
  private stopping = false;

  constructor(
    private readonly events: AuditRepository,
    private readonly secrets: Secrets,
    private readonly lock: JobLock,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  @Interval('audit-seal', SEAL_EVERY_MS)
  async sealOnSchedule(): Promise<void> {
    if (this.running || this.stopping) return;
    this.running = this.sealPending()
      .catch((error: Error) => this.logger.warn(`Sealing failed: ${error.message}`))
      .finally(() => (this.running = undefined));
    await this.running;
  }

  /**
   * Before any connection closes: the scheduler's timer runs until its own shutdown hook, and a
   * round started after Redis began to close would keep it from closing.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** Seals every committed, unsealed event; returns how many. */
  async sealPending(): Promise<number> {
    let total = 0;
    for (;;) {
      const sealed = await this.lock.runExclusive('audit-sealer', 30_000, () => this.sealRound());
      if (!sealed) return total;
      total += sealed;
    }
  }

  private async sealRound(): Promise<number> {
    const state = await this.chainState();
    const events = await this.events.sealCandidates(
      state.horizon,
      state.waiting.map(([from, to]) => [from, to]),
      SEAL_BATCH,
    );
    if (events.length === 0) return 0;
    const now = this.clock.now();
    const ids = events.map((event) => Number(event.id));
    const { horizon, waiting } = nextWaiting(state.horizon, state.waiting, ids, now);
    const round: Omit<AuditSeal, 'mac' | 'fingerprints'> = {
      round: (state.round + 1n).toString(),
      sealedAt: new Date(now),
      keyId: this.secrets.auditKeyId,
      events: formatRanges(ids),
      eventCount: ids.length,
      horizon: String(horizon),
      waiting: JSON.stringify(waiting),
    };
    const canonical = events.map((event) => canonicalEvent(event));
    await this.events.insertRound({
      ...round,
      mac: roundMac(this.secrets, state.mac, round, canonical)!,
      fingerprints: canonical.map(fingerprint).join(''),
    });
    return events.length;
  }

  private async chainState(): Promise<ChainState> {
    const last = await this.events.lastRound();
    if (last)
      return {
        round: BigInt(last.round),
        mac: last.mac,
        horizon: Number(last.horizon),
        waiting: JSON.parse(last.waiting) as WaitingRange[],
      };
    // The first round continues the chain of events sealed one by one, if there is one.
    const [legacy, legacyStart, horizon] = await Promise.all([
      this.events.lastLegacySealed(),
      this.events.latestAnchor('start'),
      this.events.legacyHorizon(),
    ]);
    const now = this.clock.now();
    return {
      round: 0n,
      mac: legacy?.seal ?? legacyStart?.seal ?? GENESIS_SEAL,
      horizon,
      waiting: (await this.events.unsealedLegacyIds(horizon)).map((id): WaitingRange => [id, id, now]),
    };
  }

  /**
   * Deletes the events older than the cutoff, a round at a time, oldest first. An anchor keeps
   * the MAC of the last round deleted, so what remains still verifies. The newest round stays:
   * the next one continues from it.
   */
  async pruneBefore(cutoff: Date): Promise<number> {
    const deleted = await this.pruneLegacyBefore(cutoff);
    const [last, newest] = await Promise.all([this.events.lastRoundSealedBefore(cutoff), this.events.lastRound()]);
    if (!last || last.round === newest?.round) return deleted;
    await this.insertAnchor('round', last.round, last.mac);
    let count = 0;
    for (;;) {
      const rounds = (await this.events.roundsFrom(0n, PRUNE_ROUNDS)).filter(
        (round) => BigInt(round.round) <= BigInt(last.round),
      );
      if (rounds.length === 0) return deleted + count;
      await this.events.deleteRounds(
        rounds,
        rounds.flatMap((round) => parseRanges(round.events)),
      );
      count += rounds.reduce((sum, round) => sum + round.eventCount, 0);
    }
  }

  /** The events sealed one by one before rounds, as that chain was pruned. */
  private async pruneLegacyBefore(cutoff: Date): Promise<number> {
    const last = await this.events.lastPrunable(cutoff);
    if (!last) return 0;
    await this.insertAnchor('start', last.chainIndex!, last.seal!);
    let deleted = 0;
    for (let batch = PRUNE_LEGACY_BATCH; batch === PRUNE_LEGACY_BATCH;) {
      batch = await this.events.deleteChainUpTo(last.chainIndex!, PRUNE_LEGACY_BATCH);
      deleted += batch;
    }
    return deleted;
  }

  private async insertAnchor(kind: 'round' | 'start', chainIndex: string, seal: string): Promise<void> {
    const anchor = { kind, chainIndex, seal };
    await this.events.insertAnchor({
      ...anchor,
      keyId: this.secrets.auditKeyId,
      anchorSeal: sealAnchor(this.secrets, anchor)!,
      createdAt: new Date(this.clock.now()),
    });
  }
}
