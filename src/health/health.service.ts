import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MailService } from '../mail/mail.service';
import { OtpStore } from '../store/otp-store';
import { StoreStatus } from '../store/store-status';

export type DependencyState = 'up' | 'degraded' | 'down';

export interface DependencyReport {
  status: DependencyState;
  [detail: string]: unknown;
}

const CHECK_TIMEOUT_MS = 2000;

/**
 * Readiness: the database and the OTP store are needed to serve; a mail outage, or the store
 * serving from memory while Redis is away, only degrades.
 */
@Injectable()
export class HealthService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: OtpStore,
    private readonly storeStatus: StoreStatus,
    private readonly mail: MailService,
  ) {}

  /** While Redis is away the store is `degraded` (serving from memory) or `down` (REDIS_FALLBACK=fail). */
  private async otpStore(): Promise<DependencyReport> {
    const info = { kind: this.storeStatus.kind, ...(this.storeStatus.kind === 'redis' ? { fallback: this.storeStatus.fallback } : {}) };
    const state = this.storeStatus.state;
    return state === 'up' ? probe(() => this.store.ping(), 'down', info) : { status: state, ...info };
  }

  async readiness(): Promise<{ status: 'ok' | 'degraded' | 'error'; details: Record<string, DependencyReport> }> {
    const [database, otpStore, mail] = await Promise.all([
      probe(() => this.dataSource.query('SELECT 1'), 'down', { engine: this.dataSource.options.type }),
      this.otpStore(),
      probe(() => this.mail.checkTransport(), 'down', { transport: this.mail.transportKind }),
    ]);
    const details = { database, otpStore, mail };
    const status = database.status === 'down' || otpStore.status === 'down' ? 'error' : Object.values(details).some((d) => d.status !== 'up') ? 'degraded' : 'ok';
    return { status, details };
  }
}

async function probe(check: () => Promise<unknown>, failed: DependencyState, info: Record<string, unknown>): Promise<DependencyReport> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: 'up', ...info };
  } catch (error) {
    return { status: failed, ...info, error: (error as Error).message.slice(0, 200) };
  } finally {
    clearTimeout(timer);
  }
}
