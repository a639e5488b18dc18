import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { Secrets } from '../common/secrets';
import { JobLock } from '../store/job-lock';
import { GENESIS_SEAL, sealAnchor, sealEvent } from './audit-chain';
import { AuditRepository } from './audit.repository';

const SEAL_EVERY_MS = 1000;
const SEAL_BATCH = 1000;
const VERIFY_BATCH = 5000;
const PRUNE_BATCH = 1000;
/** An event this old and still unsealed did not come through the service. */
const UNSEALED_SUSPICIOUS_AFTER_MS = 5 * 60_000;

export interface ChainReport {
  ok: boolean;
  checked: number;
  firstIndex: string | null;
  lastIndex: string | null;
  problem?: string;
}

/**
 * Makes the audit trail tamper-evident. Requests only insert events; every second one instance
 * (whoever holds the lock) seals the events committed since, in order: each seal is an HMAC over
 * the event and the previous seal. Editing, deleting or inserting a row breaks the chain there.
 */
@Injectable()
export class AuditChainService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('AuditChain');
  private running?: Promise<unknown>;
  private stopping = false;

  constructor(
    private readonly dataSource: DataSource,
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
      const sealed = await this.lock.runExclusive('audit-sealer', 30_000, () => this.sealBatch());
      if (!sealed) return total;
      total += sealed;
    }
  }

  private sealBatch(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const pending = await this.events.unsealed(manager, SEAL_BATCH);
      if (pending.length === 0) return 0;
      const last = await this.events.lastSealed(manager);
      const anchor = last ? null : await this.events.latestAnchor('start', manager);
      let previousSeal = last?.seal ?? anchor?.seal ?? GENESIS_SEAL;
      let index = BigInt(last?.chainIndex ?? anchor?.chainIndex ?? 0) + 1n;
      for (const event of pending) {
        event.chainIndex = (index++).toString();
        event.seal = sealEvent(this.secrets, previousSeal, event);
        previousSeal = event.seal;
      }
      await this.events.seal(manager, pending);
      const head = {
        kind: 'head' as const,
        chainIndex: (index - 1n).toString(),
        seal: previousSeal,
        createdAt: new Date(this.clock.now()),
      };
      await this.events.moveHead(manager, { ...head, anchorSeal: sealAnchor(this.secrets, head) });
      return pending.length;
    });
  }

  /** Walks the whole chain from its anchor and names the first broken link. */
  async verify(): Promise<ChainReport> {
    const [anchor, head] = await Promise.all([this.events.latestAnchor('start'), this.events.latestAnchor('head')]);
    for (const checkpoint of [anchor, head]) {
      if (checkpoint && checkpoint.anchorSeal !== sealAnchor(this.secrets, checkpoint)) {
        return {
          ok: false,
          checked: 0,
          firstIndex: null,
          lastIndex: null,
          problem: `the ${checkpoint.kind} checkpoint at chain index ${checkpoint.chainIndex} was altered`,
        };
      }
    }
    let previousSeal = anchor?.seal ?? GENESIS_SEAL;
    let expected = BigInt(anchor?.chainIndex ?? 0) + 1n;
    const firstIndex = expected.toString();
    let checked = 0;
    for (;;) {
      const batch = await this.events.chainFrom(expected, VERIFY_BATCH);
      for (const event of batch) {
        const report = (problem: string): ChainReport => ({
          ok: false,
          checked,
          firstIndex,
          lastIndex: (expected - 1n).toString(),
          problem,
        });
        if (BigInt(event.chainIndex!) !== expected)
          return report(`chain index ${expected} is missing before event ${event.id}: an event was deleted`);
        if (sealEvent(this.secrets, previousSeal, event) !== event.seal)
          return report(`event ${event.id} (chain index ${expected}) does not match its seal: it was changed`);
        previousSeal = event.seal!;
        expected++;
        checked++;
      }
      if (batch.length < VERIFY_BATCH) break;
    }
    const lastIndex = checked > 0 ? (expected - 1n).toString() : null;
    if (head && expected - 1n < BigInt(head.chainIndex)) {
      return {
        ok: false,
        checked,
        firstIndex,
        lastIndex,
        problem: `the chain ends at index ${expected - 1n} but was sealed up to ${head.chainIndex}: the newest events were deleted`,
      };
    }
    const [stray] = await this.events.unsealedBefore(new Date(this.clock.now() - UNSEALED_SUSPICIOUS_AFTER_MS));
    if (stray)
      return {
        ok: false,
        checked,
        firstIndex,
        lastIndex,
        problem: `event ${stray.id} was never sealed: it was not written by the service`,
      };
    return { ok: true, checked, firstIndex: checked > 0 ? firstIndex : null, lastIndex };
  }

  /**
   * Deletes sealed events older than the cutoff, oldest first, in batches; an anchor keeps the
   * seal of the last one deleted, so what remains still verifies.
   */
  async pruneBefore(cutoff: Date): Promise<number> {
    const last = await this.events.lastPrunable(cutoff);
    if (!last) return 0;
    const anchor = {
      kind: 'start' as const,
      chainIndex: last.chainIndex!,
      seal: last.seal!,
      createdAt: new Date(this.clock.now()),
    };
    await this.events.insertStartAnchor({ ...anchor, anchorSeal: sealAnchor(this.secrets, anchor) });
    let deleted = 0;
    for (let batch = PRUNE_BATCH; batch === PRUNE_BATCH;) {
      batch = await this.events.deleteChainUpTo(last.chainIndex!, PRUNE_BATCH);
      deleted += batch;
    }
    return deleted;
  }
}
