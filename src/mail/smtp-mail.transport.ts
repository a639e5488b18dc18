import { MailerService } from '@nestjs-modules/mailer';
import { OnApplicationShutdown } from '@nestjs/common';
import { MailConfig } from '../config/app-config';
import { MailTransport, OutgoingMail } from './mail-transport';
import { composeMessage, Mailbox, parseMailbox } from './mime-message';
import { SmtpConnectionPool } from './smtp-connection-pool';

/** Connection trouble and 4xx replies may pass; a 5xx reply will not. */
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'ECONNRESET', 'EDNS']);
const MIN_RETRY_BUDGET_MS = 200;
/** Each connection carries one message at a time; a pool as wide as the usual concurrency. */
const MAX_CONNECTIONS = 10;
const TRANSPORTER = 'smtp';

/** Mail to MAIL_SERVER through the mailer, over a pool of kept-open SMTP connections. */
export class SmtpMailTransport extends MailTransport implements OnApplicationShutdown {
  readonly kind = 'smtp' as const;
  private readonly from: Mailbox;
  private readonly pool: SmtpConnectionPool;

  constructor(
    private readonly mailer: MailerService,
    private readonly config: MailConfig,
  ) {
    super();
    this.from = parseMailbox(config.defaultSender);
    this.pool = new SmtpConnectionPool(
      {
        host: config.server,
        port: config.port,
        secure: config.useSsl,
        requireTLS: config.useTls,
        ignoreTLS: !config.useTls && !config.useSsl,
        auth: config.username ? { user: config.username, pass: config.password ?? '' } : undefined,
        connectionTimeout: config.timeoutMs,
        greetingTimeout: config.timeoutMs,
        socketTimeout: config.timeoutMs,
      },
      MAX_CONNECTIONS,
    );
    mailer.addTransporter(TRANSPORTER, this.pool);
  }

  /** Hands the message over, retrying a transient failure once, all within MAIL_TIMEOUT_MS. */
  async send(mail: OutgoingMail): Promise<void> {
    const deadline = Date.now() + this.config.timeoutMs;
    // With the Message-ID given, nodemailer does not draw five random numbers for one of its own.
    const message = { transporterName: TRANSPORTER, envelope: { from: this.from.address, to: [mail.to] }, ...composeMessage(this.from, mail) };
    try {
      await this.mailer.sendMail({ ...message, timeout: this.config.timeoutMs });
    } catch (error) {
      const remaining = deadline - Date.now();
      if (!isTransient(error) || remaining < MIN_RETRY_BUDGET_MS) throw error;
      await this.mailer.sendMail({ ...message, timeout: remaining });
    }
  }

  async check(): Promise<void> {
    await this.pool.verify().catch(() => {
      throw new Error('the SMTP server did not accept a connection');
    });
  }

  onApplicationShutdown(): void {
    this.pool.close();
  }
}

function isTransient(error: unknown): boolean {
  const { responseCode, code } = error as { responseCode?: number; code?: string };
  return (responseCode !== undefined && responseCode >= 400 && responseCode < 500) || (code !== undefined && TRANSIENT_CODES.has(code));
}
