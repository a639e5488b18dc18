import { MailerService } from '@nestjs-modules/mailer';
import type { MailMessage, SentMessageInfo, Transport } from 'nodemailer';
import { OutgoingMail } from '../../src/mail/mail-transport';

type SendCallback = Parameters<Transport<SentMessageInfo>['send']>[1];

/** A nodemailer custom transport that keeps each message it is given, and can be made to fail once. */
class CapturingMailTransport implements Transport<SentMessageInfo> {
  readonly name = 'capturing';
  readonly version = '1.0.0';
  readonly sent: OutgoingMail[] = [];
  failNext: Error | null = null;

  send({ data, message }: MailMessage<SentMessageInfo>, callback: SendCallback): void {
    // MailService hands over plain strings (no raw) when MAIL_SERVER is unset, as in the unit specs.
    const { to, subject, text, html } = data as OutgoingMail;
    this.sent.push({ to, subject, text, html });
    const failure = this.failNext;
    this.failNext = null;
    if (failure) return callback(failure);
    callback(null, { envelope: message.getEnvelope(), messageId: message.messageId() });
  }
}

/**
 * The mail port for unit specs: the real MailerService (and nodemailer behind it) over a transport
 * that keeps what it is given and can be made to fail once.
 */
export class CapturingTransport extends MailerService {
  private readonly capturing: CapturingMailTransport;

  constructor() {
    const capturing = new CapturingMailTransport();
    // No transport factory: MailerService then makes the transporter with nodemailer's createTransport.
    super({ transport: capturing }, undefined as never);
    this.capturing = capturing;
  }

  get sent(): OutgoingMail[] {
    return this.capturing.sent;
  }

  /** The error the next send fails with, after the message was captured. */
  set failNext(error: Error | null) {
    this.capturing.failNext = error;
  }

  get failNext(): Error | null {
    return this.capturing.failNext;
  }

  lastCode(): string {
    return /\b(\d{6,10})\b/.exec(this.sent[this.sent.length - 1].text)![1];
  }
}
