import { MailerOptions, MailerService } from '@nestjs-modules/mailer';
import { MailConfig } from '../config/app-config';
import { MailRefusedError, MailTransport, OutgoingMail } from './mail-transport';
import { AUTOMATED_MAIL_HEADERS, composeLoginMail } from './login-mail.composer';
import { Mailbox, parseMailbox } from '../config/mailbox';

/** Connection trouble and 4xx replies may pass; a 5xx reply will not. */
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'ECONNRESET', 'EDNS']);
const MIN_RETRY_BUDGET_MS = 200;
/** Each connection carries one message at a time; a pool as wide as the usual concurrency. */
const MAX_CONNECTIONS = 10;
/** A 5xx reply to these commands refuses the message; one to AUTH or HELO is our configuration. */
const MESSAGE_COMMANDS = new Set(['MAIL FROM', 'RCPT TO', 'DATA']);
const MAX_REASON_LENGTH = 200;

/** The mailer's options: nodemailer's pooled SMTP transport to MAIL_SERVER. */
export function mailerOptions(config: MailConfig): MailerOptions {
  return {
    // Without MAIL_SERVER the development mailbox takes the mail and this transport is never used.
    transport: config.server
      ? {
          pool: true,
          maxConnections: MAX_CONNECTIONS,
          host: config.server,
          port: config.port,
          secure: config.useSsl,
          requireTLS: config.useTls,
          ignoreTLS: !config.useTls && !config.useSsl,
          auth: config.username ? { user: config.username, pass: config.password ?? '' } : undefined,
          connectionTimeout: config.timeoutMs,
          greetingTimeout: config.timeoutMs,
          socketTimeout: config.timeoutMs,
        }
      : { jsonTransport: true },
  };
}

/** Mail to MAIL_SERVER through the mailer and nodemailer's pool of kept-open SMTP connections. */
export class SmtpMailTransport extends MailTransport {
  readonly kind = 'smtp' as const;
  private readonly from: Mailbox;

  constructor(
    private readonly mailer: MailerService,
    private readonly config: MailConfig,
  ) {
    super();
    // Validated at startup; nodemailer encodes the name and punycodes the domain.
    this.from = parseMailbox(config.defaultSender)!;
  }

  /** Hands the message over, retrying a transient failure once, all within MAIL_TIMEOUT_MS. */
  async send(mail: OutgoingMail): Promise<void> {
    const deadline = Date.now() + this.config.timeoutMs;
    try {
      await this.deliver(mail, this.config.timeoutMs);
    } catch (error) {
      const remaining = deadline - Date.now();
      if (!isTransient(error) || remaining < MIN_RETRY_BUDGET_MS) throw error;
      await this.deliver(mail, remaining);
    }
  }

  async check(): Promise<void> {
    if (!(await this.mailer.verifyAllTransporters())) throw new Error('the SMTP server did not accept a connection');
  }

  /**
   * Our composed message goes to the mailer as `raw`: nodemailer's composer and its stream
   * pipeline cost about twice the CPU per message (docs/architecture/0001-login-mail-composer.md).
   * An address that needs SMTPUTF8 is left to nodemailer's composer.
   */
  private async deliver(mail: OutgoingMail, timeout: number): Promise<void> {
    const { to, subject, text, html } = mail;
    const composed = composeLoginMail(this.from, mail);
    try {
      await this.mailer.sendMail(
        composed
          ? { ...composed, timeout }
          : { from: this.from, to, subject, text, html, headers: AUTOMATED_MAIL_HEADERS, timeout },
      );
    } catch (error) {
      throw asRefusal(error) ?? error;
    }
  }
}

interface SmtpError {
  responseCode?: number;
  response?: string;
  command?: string;
  code?: string;
}

function isTransient(error: unknown): boolean {
  const { responseCode, code } = error as SmtpError;
  return (
    (responseCode !== undefined && responseCode >= 400 && responseCode < 500) ||
    (code !== undefined && TRANSIENT_CODES.has(code))
  );
}

function asRefusal(error: unknown): MailRefusedError | undefined {
  const { responseCode, response, command } = error as SmtpError;
  if (
    responseCode === undefined ||
    responseCode < 500 ||
    responseCode > 599 ||
    !command ||
    !MESSAGE_COMMANDS.has(command)
  )
    return undefined;
  // eslint-disable-next-line no-control-regex -- the server's reply goes to the audit trail on one line
  const reply = typeof response === 'string' ? response.replace(/[\x00-\x1f\x7f\s]+/g, ' ').trim() : '';
  return new MailRefusedError((reply || String(responseCode)).slice(0, MAX_REASON_LENGTH));
}
