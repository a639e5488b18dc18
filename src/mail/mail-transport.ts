export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Where mail goes: a real SMTP server, or the development mailbox. */
export abstract class MailTransport {
  abstract readonly kind: 'smtp' | 'development-mailbox';

  /**
   * Resolves once the message is handed over. Rejects with MailRefusedError when the server
   * refused it for good, with any other error when it could not be handed over now.
   */
  abstract send(mail: OutgoingMail): Promise<void>;

  /** Rejects when the transport cannot currently accept mail. */
  abstract check(): Promise<void>;
}

/** The mail server refused this message for good (a 5xx reply): sending it again cannot help. */
export class MailRefusedError extends Error {
  constructor(
    /** The server's reply, e.g. "550 5.1.1 mailbox unavailable"; never the message itself. */
    readonly reason: string,
  ) {
    super(`the mail server refused the message: ${reason}`);
    this.name = 'MailRefusedError';
  }
}
