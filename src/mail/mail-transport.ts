/** One message as MailService hands it to the mailer. */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Where the mailer sends: a real SMTP server, or the development mailbox (MAIL_SERVER unset). */
export type MailTransportKind = 'smtp' | 'development-mailbox';

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
