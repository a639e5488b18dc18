import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { AuditChainService } from '../audit/audit-chain.service';
import { AuditService } from '../audit/audit.service';
import { ServiceTokensService } from '../auth/service-tokens.service';
import { SessionsService } from '../auth/sessions.service';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { Clock } from '../common/clock';
import { Metrics } from '../metrics/metrics';
import { OidcStorage } from '../oidc/storage/oidc-storage';
import { JobLock } from '../store/job-lock';
import { OtpService } from '../otp/otp.service';

const BATCH = 1000;
const DAY_MS = 86_400_000;
const LOCK_TTL_MS = 10 * 60_000;

export interface CleanupCounts {
  otpTokens: number;
  memoryLogins: number;
  sessions: number;
  serviceTokens: number;
  oidcPayloads: number;
  auditEvents: number;
}

/**
 * CLEANUP_CRON: expired codes and logins, sessions past their end, records of expired service
 * tokens, expired OpenID Provider state, audit events past retention; in batches, on one
 * instance per tick. A run that removed anything is audited as otp.cleanup.
 */
@Injectable()
export class CleanupJob implements OnApplicationBootstrap {
  private readonly logger = new Logger('Cleanup');

  constructor(
    private readonly otp: OtpService,
    private readonly sessions: SessionsService,
    private readonly serviceTokens: ServiceTokensService,
    private readonly oidcStorage: OidcStorage,
    private readonly auditChain: AuditChainService,
    private readonly audit: AuditService,
    private readonly lock: JobLock,
    private readonly scheduler: SchedulerRegistry,
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    // A tick is named by the one after it, which every instance computes alike whenever its timer fires.
    const job: CronJob = CronJob.from({
      cronTime: this.config.cleanupCron,
      onTick: () => void this.runScheduled(job.nextDate().toMillis()),
    });
    this.scheduler.addCronJob('cleanup', job);
    job.start();
  }

  private async runScheduled(tick: number): Promise<void> {
    try {
      await this.lock.runOncePerRound('cleanup', tick, LOCK_TTL_MS, () => this.clean());
    } catch (error) {
      this.logger.warn(`Cleanup failed: ${(error as Error).message}`);
    }
  }

  /** One cleanup; undefined when another instance is running it. */
  run(): Promise<CleanupCounts | undefined> {
    return this.lock.runExclusive('cleanup', LOCK_TTL_MS, () => this.clean());
  }

  private async clean(): Promise<CleanupCounts> {
    this.metrics.cleanupRuns.inc();
    const now = this.clock.now();
    const counts: CleanupCounts = {
      ...(await this.otp.removeExpired(BATCH)),
      sessions: await this.sessions.deleteEnded(BATCH),
      serviceTokens: await this.serviceTokens.deleteExpired(BATCH),
      oidcPayloads: await this.oidcStorage.deleteExpired(new Date(now), BATCH),
      auditEvents: await this.auditChain.pruneBefore(new Date(now - this.config.auditRetentionDays * DAY_MS)),
    };
    for (const [kind, count] of Object.entries(counts) as [string, number][])
      this.metrics.cleanupRemoved.inc({ kind }, count);
    if (Object.values(counts).some((count) => count > 0))
      await this.audit.record([{ type: 'otp.cleanup', details: { ...counts } }]);
    return counts;
  }
}
