import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MailService } from '../mail/mail.service';
import { OtpStore } from '../store/otp-store';

export type DependencyState = 'up' | 'degraded' | 'down';

export interface DependencyReport {
  status: DependencyState;
  [detail: string]: unknown;
}

const CHECK_TIMEOUT_MS = 2000;

/**
 * Readiness: the database and the OTP store are needed to serve; a mail outage only degrades
 * (sign-ins in progress, refreshes and token checks still work).
 */
@Injectable()
export class HealthService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: OtpStore,
    private readonly mail: MailService,
  ) {}

  async readiness(): Promise<{ status: 'ok' | 'degraded' | 'error'; details: Record<string, DependencyReport> }> {
    const [database, otpStore, mail] = await Promise.all([
      probe(() => this.dataSource.query('SELECT 1'), 'down', { engine: this.dataSource.options.type }),
      probe(() => this.store.ping(), 'down', { kind: this.store.kind }),
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
