export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Where mail goes: a real SMTP server, or the development mailbox. */
export abstract class MailTransport {
  abstract readonly kind: 'smtp' | 'development-mailbox';

  /** Resolves once the message is handed over; rejects if it could not be. */
  abstract send(mail: OutgoingMail): Promise<void>;

  /** Rejects when the transport cannot currently accept mail. */
  abstract check(): Promise<void>;
}
