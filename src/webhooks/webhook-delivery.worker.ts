import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../common/clock';
import { Secrets } from '../common/secrets';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { Metrics } from '../metrics/metrics';
import { JobLock } from '../store/job-lock';
import { webhookUrlProblem } from './webhook-address-policy';
import { WebhookEvent } from './webhook-event.entity';
import { WebhookSender } from './webhook-sender';
import { signedHeaders } from './webhook-signature';
import { DueDelivery, WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

const DISPATCH_BATCH = 500;
const DELIVERY_BATCH = 50;
const CONCURRENCY = 10;
/** Delivered or given-up events, their deliveries and history are kept this long, then deleted. */
const KEEP_SETTLED_MS = 30 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;
const PRUNE_BATCH = 1000;

/**
 * Delivers the outbox on one instance at a time: each tick turns new events into deliveries and
 * makes the attempts that are due, each claimed in the database first, so no two instances make
 * the same attempt and a crash mid-attempt only delays it until its lease runs out.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private readonly sender: WebhookSender;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private lastPrunedAt = -Infinity;
  private stopping = false;
  private failing = false;

  constructor(
    private readonly repository: WebhooksRepository,
    private readonly webhooks: WebhooksService,
    private readonly secrets: Secrets,
    private readonly lock: JobLock,
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Clock) private readonly clock: Clock,
  ) {
    this.sender = new WebhookSender(config.webhooks.allowPrivate, config.webhooks.timeoutMs);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.webhooks.pollMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
    this.sender.close();
  }

  /** One round unless one is running here or on another instance. */
  tick(): Promise<void> {
    if (this.running) return this.running;
    // If the holder dies, another instance takes over after this. A round that outlasts it may
    // overlap the next one's: harmless, since each attempt is claimed in the database first.
    const lockTtlMs = 2 * this.leaseMs();
    this.running = this.lock
      .runExclusive('webhooks', lockTtlMs, () => this.deliver())
      .then(() => {
        if (this.failing) this.logger.log('Webhook delivery rounds run again');
        this.failing = false;
      })
      .catch((error: Error) => {
        // Once per outage, not once per poll.
        if (!this.failing) this.logger.warn(`Webhook delivery rounds fail, retried every poll: ${error.message}`);
        this.failing = true;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** How long a claimed attempt stays claimed: if its instance dies mid-attempt, it is retried after this. */
  private leaseMs(): number {
    return 2 * this.config.webhooks.timeoutMs + 1000;
  }

  private async deliver(): Promise<void> {
    while ((await this.repository.dispatch(DISPATCH_BATCH, new Date(this.clock.now()), newMessageId)) > 0);
    // A backlog drains batch after batch, within the lock's time; on shutdown, the attempts under
    // way finish and the rest wait for the next round (of this instance or another).
    const started = this.clock.now();
    for (let full = true; full && !this.stopping && this.clock.now() - started < this.leaseMs();) {
      const due = await this.repository.due(new Date(this.clock.now()), DELIVERY_BATCH);
      for (let i = 0; i < due.length && !this.stopping; i += CONCURRENCY)
        await Promise.all(due.slice(i, i + CONCURRENCY).map((item) => this.attempt(item)));
      full = due.length === DELIVERY_BATCH;
    }
    await this.pruneSettled();
    const oldest = await this.repository.oldestPendingAt();
    this.metrics.webhookOldestPending.set(oldest ? Math.max(0, (this.clock.now() - oldest.getTime()) / 1000) : 0);
  }

  /** At most hourly: events settled more than KEEP_SETTLED_MS ago go, so no address stays here for good. */
  private async pruneSettled(): Promise<void> {
    const now = this.clock.now();
    if (now - this.lastPrunedAt < PRUNE_EVERY_MS) return;
    this.lastPrunedAt = now;
    const cutoff = new Date(now - KEEP_SETTLED_MS);
    while ((await this.repository.deleteSettledBefore(cutoff, PRUNE_BATCH)) === PRUNE_BATCH);
  }

  private async attempt({ delivery, event, endpoint }: DueDelivery): Promise<void> {
    const now = this.clock.now();
    const { retryDelaysMs } = this.config.webhooks;
    if (!(await this.repository.claim(delivery, new Date(now), new Date(now + this.leaseMs())))) return;
    const attempt = delivery.attempts + 1;
    const body = JSON.stringify(payloadOf(event));
    const refused = webhookUrlProblem(endpoint.url, this.webhooks.urlPolicy());
    const result = refused
      ? { status: null, error: 'URL no longer allowed' }
      : await this.sender.send(
          endpoint.url,
          signedHeaders(
            this.secrets.open('webhook-secret', endpoint.secretSealed),
            delivery.messageId,
            Math.floor(now / 1000),
            body,
          ),
          body,
        );
    const at = this.clock.now();
    const delivered = result.error === undefined;
    const retryDelay = retryDelaysMs[attempt - 1];
    const nextAttemptAt = delivered || retryDelay === undefined ? null : new Date(at + retryDelay);
    this.metrics.webhookAttempts.inc({ outcome: delivered ? 'delivered' : nextAttemptAt ? 'failed' : 'given_up' });
    await this.repository.settle(
      {
        deliveryId: delivery.id,
        endpointId: endpoint.id,
        messageId: delivery.messageId,
        type: event.type,
        attempt,
        status: result.status,
        error: result.error?.slice(0, 200) ?? null,
        at: new Date(at),
        nextAttemptAt,
      },
      delivered ? new Date(at) : null,
    );
  }
}

function newMessageId(): string {
  return `msg_${randomUUID().replace(/-/g, '')}`;
}

/** The body receivers get: never a code or a token, only who and when. */
export function payloadOf(event: WebhookEvent): Record<string, unknown> {
  const data: Record<string, unknown> = { userId: event.userId };
  if (event.sessionId) data.sessionId = event.sessionId;
  if (event.email) data.email = event.email;
  if (event.type === 'session.revoked' && typeof event.details.reason === 'string') data.reason = event.details.reason;
  if (event.type === 'user.email_changed' && typeof event.details.previousEmail === 'string')
    data.previousEmail = event.details.previousEmail;
  return { type: event.type, timestamp: new Date(event.at).toISOString(), data };
}
