import type { SentMessageInfo, Transport } from 'nodemailer';
import type MailMessage from 'nodemailer/lib/mailer/mail-message';
import SMTPConnection, { SMTPConnectionCredentials, SMTPConnectionOptions } from 'nodemailer/lib/smtp-connection';

/**
 * A nodemailer transport for messages handed over already composed (`raw`): each one goes out as
 * one string over one of at most `maxConnections` SMTP connections kept open between messages.
 * nodemailer's own pool streams every message through its MIME tree and a stream pipeline
 * first: half again as much CPU per message as sending the string.
 */
export class SmtpConnectionPool implements Transport<SentMessageInfo> {
  readonly name = 'smtp-connection-pool';
  readonly version = '1';
  private readonly idle = new Set<SMTPConnection>();
  private readonly waiting: { resolve: (connection: SMTPConnection) => void; reject: (error: Error) => void }[] = [];
  private opened = 0;
  private closed = false;

  constructor(
    private readonly options: SMTPConnectionOptions & { auth?: SMTPConnectionCredentials },
    private readonly maxConnections: number,
  ) {}

  send(mail: MailMessage<SentMessageInfo>, callback: (error: Error | null, info?: SentMessageInfo) => void): void {
    const raw = mail.data.raw;
    if (typeof raw !== 'string') return callback(new Error('this transport sends composed (raw) messages only'));
    const envelope = mail.message.getEnvelope();
    this.acquire().then((connection) => {
      connection.send(envelope, raw, (error, info) => {
        // After a refusal or a broken connection, start the next message on a fresh session.
        if (error) this.discard(connection);
        else this.release(connection);
        callback(error ?? null, info && { ...info, envelope, messageId: mail.message.messageId() });
      });
    }, callback);
  }

  /** Connects and logs in once, as `transporter.verify()` does. */
  async verify(): Promise<true> {
    const connection = await this.connect();
    connection.on('error', () => undefined);
    connection.quit();
    return true;
  }

  close(): void {
    this.closed = true;
    for (const connection of this.idle) connection.quit();
    this.idle.clear();
    for (const waiter of this.waiting.splice(0)) waiter.reject(new Error('the SMTP pool is closed'));
  }

  private acquire(): Promise<SMTPConnection> {
    if (this.closed) return Promise.reject(new Error('the SMTP pool is closed'));
    const [connection] = this.idle;
    if (connection) {
      this.idle.delete(connection);
      return Promise.resolve(connection);
    }
    if (this.opened < this.maxConnections) return this.open();
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(connection: SMTPConnection): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter.resolve(connection);
    else if (this.closed) this.discard(connection);
    else this.idle.add(connection);
  }

  /** Closes a connection that was in use. */
  private discard(connection: SMTPConnection): void {
    this.opened--;
    connection.close();
    const waiter = this.waiting.shift();
    if (waiter) this.open().then(waiter.resolve, waiter.reject);
  }

  /** A new pooled connection; the pool forgets it when the server or a timeout ends it. */
  private async open(): Promise<SMTPConnection> {
    this.opened++;
    let connection: SMTPConnection;
    try {
      connection = await this.connect();
    } catch (error) {
      this.opened--;
      throw error;
    }
    let ended = false;
    const forget = () => {
      if (ended) return;
      ended = true;
      if (this.idle.delete(connection)) this.opened--;
    };
    connection.on('end', forget);
    connection.on('error', forget);
    return connection;
  }

  private connect(): Promise<SMTPConnection> {
    const { auth, ...options } = this.options;
    const connection = new SMTPConnection(options);
    return new Promise((resolve, reject) => {
      const fail = (error: Error) => {
        connection.close();
        reject(error);
      };
      // An 'error' event without a listener would end the process.
      connection.once('error', fail);
      connection.connect((error) => {
        if (error) return fail(error);
        const ready = () => {
          connection.removeListener('error', fail);
          resolve(connection);
        };
        if (!auth) return ready();
        connection.login(auth, (loginError) => (loginError ? fail(loginError) : ready()));
      });
    });
  }
}
