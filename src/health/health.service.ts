import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckResult, HealthCheckService, HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { MailService } from '../mail/mail.service';
import { OtpStore } from '../store/otp-store';
import { StoreStatus } from '../store/store-status';
import { DependencyResponse, ReadinessDetails, ReadinessResponse } from './health.responses';

const CHECK_TIMEOUT_MS = 2000;

/**
 * Readiness through @nestjs/terminus: the database and the OTP store are needed to serve; a mail
 * outage, or the store serving from memory while Redis is away, only degrades. Terminus knows
 * up and down only, so a degraded dependency is reported up with `degraded: true` and shown as
 * `degraded`; while the application shuts down, readiness fails.
 */
@Injectable()
export class HealthService {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
    private readonly store: OtpStore,
    private readonly storeStatus: StoreStatus,
    private readonly mail: MailService,
  ) {}

  async readiness(): Promise<ReadinessResponse> {
    const result = await this.health
      .check([
        () => this.probe('database', () => this.dataSource.query('SELECT 1'), { engine: this.dataSource.options.type }),
        () => this.otpStore(),
        () => this.probe('mail', () => this.mail.checkTransport(), { transport: this.mail.transportKind }, true),
      ])
      .catch((error: unknown) => {
        if (error instanceof ServiceUnavailableException) return error.getResponse() as HealthCheckResult;
        throw error;
      });
    const reports: [string, DependencyResponse][] = Object.entries(result.details).map(
      ([name, { status, degraded, ...info }]) => [name, { status: degraded ? 'degraded' : status, ...info }],
    );
    // The three checks above, in the order terminus reports them (failed ones last).
    const details = Object.fromEntries(reports) as Record<keyof ReadinessDetails, DependencyResponse>;
    const degraded = reports.some(([, dependency]) => dependency.status === 'degraded');
    return { status: result.status === 'ok' && degraded ? 'degraded' : result.status, details };
  }

  /**
   * While Redis is away the store is degraded (serving from memory) or down (REDIS_FALLBACK=fail).
   * The ping goes through the fallback, which is where a Redis that is connected but cannot serve
   * is noticed, and where its first answer again ends the outage; the state is read after it.
   */
  private async otpStore(): Promise<HealthIndicatorResult> {
    const info = {
      kind: this.storeStatus.kind,
      ...(this.storeStatus.kind === 'redis' ? { fallback: this.storeStatus.fallback } : {}),
    };
    const probed = await this.probe('otpStore', () => this.store.ping(), info);
    const check = this.indicators.check('otpStore');
    switch (this.storeStatus.state) {
      case 'degraded':
        return check.up({ ...info, degraded: true });
      case 'down':
        return check.down(info);
      default:
        return probed;
    }
  }

  private async probe(
    name: string,
    ping: () => Promise<unknown>,
    info: Record<string, unknown>,
    failureOnlyDegrades = false,
  ): Promise<HealthIndicatorResult> {
    const check = this.indicators.check(name);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        ping(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS))),
      ]);
      return check.up(info);
    } catch (error) {
      const failure = { ...info, error: (error as Error).message.slice(0, 200) };
      return failureOnlyDegrades ? check.up({ ...failure, degraded: true }) : check.down(failure);
    } finally {
      clearTimeout(timer);
    }
  }
}
