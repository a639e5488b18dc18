import { MailerService } from '@nestjs-modules/mailer';
import { MailTransport, OutgoingMail } from './mail-transport';
import { composeMessage, Mailbox, parseMailbox } from './mime-message';

/** Connection trouble and 4xx replies may pass; a 5xx reply will not. */
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'ECONNRESET', 'EDNS']);
const MIN_RETRY_BUDGET_MS = 200;

export class SmtpMailTransport extends MailTransport {
  readonly kind = 'smtp' as const;
  private readonly from: Mailbox;

  constructor(
    private readonly mailer: MailerService,
    from: string,
    private readonly timeoutMs: number,
  ) {
    super();
    this.from = parseMailbox(from);
  }

  /** Hands the message over, retrying a transient failure once, all within MAIL_TIMEOUT_MS. */
  async send(mail: OutgoingMail): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    const message = { envelope: { from: this.from.address, to: [mail.to] }, raw: composeMessage(this.from, mail) };
    try {
      await this.mailer.sendMail({ ...message, timeout: this.timeoutMs });
    } catch (error) {
      const remaining = deadline - Date.now();
      if (!isTransient(error) || remaining < MIN_RETRY_BUDGET_MS) throw error;
      await this.mailer.sendMail({ ...message, timeout: remaining });
    }
  }

  async check(): Promise<void> {
    if (!(await this.mailer.verifyAllTransporters())) throw new Error('the SMTP server did not accept a connection');
  }
}

function isTransient(error: unknown): boolean {
  const { responseCode, code } = error as { responseCode?: number; code?: string };
  return (responseCode !== undefined && responseCode >= 400 && responseCode < 500) || (code !== undefined && TRANSIENT_CODES.has(code));
}
