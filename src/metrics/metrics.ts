import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Every metric of one application; a registry of its own, so instances in one process never mix. */
export class Metrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly otpCodes = new Counter({
    name: 'otp_codes_total',
    help: 'One-time codes by outcome: sent, verified, failed (wrong code), locked',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly mailDuration = new Histogram({
    name: 'mail_send_duration_seconds',
    help: 'Time to hand a mail to the transport, by outcome',
    labelNames: ['transport', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly cleanupRuns = new Counter({
    name: 'cleanup_runs_total',
    help: 'Cleanup runs done by this instance (one instance of a deployment runs each tick)',
    registers: [this.registry],
  });

  readonly cleanupRemoved = new Counter({
    name: 'cleanup_removed_total',
    help: 'Rows and entries removed by the cleanup job',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly storeFallback = new Gauge({
    name: 'otp_store_fallback',
    help: '1 while Redis is unreachable and the store serves from memory or refuses (REDIS_FALLBACK)',
    registers: [this.registry],
  });

  readonly webhookAttempts = new Counter({
    name: 'webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: delivered (2xx), failed (retried later), given_up (last retry failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly webhookOldestPending = new Gauge({
    name: 'webhook_oldest_pending_seconds',
    help: 'Age of the oldest event not yet delivered to every endpoint, as the delivering instance last saw it (0: none)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
