import { MailTransport, OutgoingMail } from '../../src/mail/mail-transport';

/** A mail transport for unit specs: keeps what it is given, and can be made to fail once. */
export class CapturingTransport extends MailTransport {
  readonly kind = 'smtp' as const;
  readonly sent: OutgoingMail[] = [];
  failNext: Error | null = null;
  async send(mail: OutgoingMail): Promise<void> {
    this.sent.push(mail);
    const failure = this.failNext;
    this.failNext = null;
    if (failure) throw failure;
  }
  async check(): Promise<void> {}
  lastCode(): string {
    return /\b(\d{6,10})\b/.exec(this.sent[this.sent.length - 1].text)![1];
  }
}
