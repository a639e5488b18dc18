import { AddressInfo, Server, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { simpleParser } from 'mailparser';
import { SMTPServer, SMTPServerOptions } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  from: string;
  subject: string;
  messageId: string;
  text: string;
  html: string;
  receivedAt: number;
  /** RCPT TO addresses as the sink read them (it shows a punycode domain in Unicode). */
  envelopeTo: string[];
  /** The message exactly as received. */
  raw: Buffer;
}

/**
 * How the sink answers: accept, accept after a second, refuse each message (550), refuse the
 * next one for now (451) then accept, drop the connection, or never answer.
 */
export type SinkMode = 'accept' | 'slow' | 'reject' | 'defer-once' | 'close' | 'stall';

const SLOW_MS = 1000;

/** A real SMTP server in the test process; mail handed to it can be read back by address. */
export class SmtpSink {
  readonly messages: ReceivedMail[] = [];
  private currentMode: SinkMode = 'accept';
  private server?: SMTPServer;
  private readonly sockets = new Set<Socket>();
  private waiters: (() => void)[] = [];
  /**
   * Recipients refused at RCPT TO, by lower-case address, with the reply code: 550 refuses the
   * mailbox for good, 451 for now. Set before sending, e.g. `sink.refusedRecipients.set('ghost@example.com', 550)`.
   */
  readonly refusedRecipients = new Map<string, 550 | 451>();
  /** Each MAIL FROM and RCPT TO command line exactly as the client sent it. */
  readonly envelopeCommands: string[] = [];

  async start(): Promise<number> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: this.commandRecorder(),
      onRcptTo: (address, _session, callback) => {
        const refusal = this.refusedRecipients.get(address.address.toLowerCase());
        if (refusal === 550)
          return callback(Object.assign(new Error('5.1.1 mailbox unavailable'), { responseCode: 550 }));
        if (refusal === 451)
          return callback(Object.assign(new Error('4.2.0 mailbox busy, try again later'), { responseCode: 451 }));
        callback();
      },
      onData: (stream, session, callback) => {
        if (this.mode === 'stall') return; // never answers: the client must time out
        let raw: Buffer;
        readAll(stream)
          .then((received) => simpleParser((raw = received)))
          .then(async (parsed) => {
            if (this.mode === 'slow') await new Promise((resolve) => setTimeout(resolve, SLOW_MS));
            if (this.mode === 'reject')
              return callback(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
            if (this.mode === 'defer-once') {
              this.currentMode = 'accept';
              return callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
            }
            const to = [parsed.to]
              .flat()
              .flatMap((address) => address?.value.map((v) => (v.address ?? '').toLowerCase()) ?? []);
            this.messages.push({
              to,
              from: parsed.from?.text ?? '',
              subject: parsed.subject ?? '',
              messageId: parsed.messageId ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              receivedAt: Date.now(),
              envelopeTo: session.envelope.rcptTo.map((recipient) => recipient.address),
              raw,
            });
            callback();
            this.waiters.splice(0).forEach((wake) => wake());
          })
          .catch(callback);
      },
    });
    this.netServer.on('connection', (socket: Socket) => {
      if (this.currentMode === 'close') return socket.destroy();
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this.port;
  }

  get mode(): SinkMode {
    return this.currentMode;
  }

  /** 'close' also drops the connections a pooled client already holds. */
  set mode(mode: SinkMode) {
    this.currentMode = mode;
    if (mode === 'close') for (const socket of this.sockets) socket.destroy();
  }

  /** smtp-server logs each command line at debug level: the only place it shows them unaltered. */
  private commandRecorder(): SMTPServerOptions['logger'] {
    const ignore = () => undefined;
    const debug = (entry: { tnx?: string }, _message: string, line?: string) => {
      if (entry?.tnx === 'command' && typeof line === 'string' && /^(MAIL FROM|RCPT TO):/i.test(line))
        this.envelopeCommands.push(line);
    };
    return {
      trace: ignore,
      debug,
      info: ignore,
      warn: ignore,
      error: ignore,
      fatal: ignore,
      level: ignore,
    };
  }

  private get netServer(): Server {
    return (this.server as unknown as { server: Server }).server;
  }

  /** SMTP connections open right now. */
  get connectionCount(): number {
    return this.sockets.size;
  }

  get port(): number {
    return (this.netServer.address() as AddressInfo).port;
  }

  messagesTo(email: string): ReceivedMail[] {
    return this.messages.filter((message) => message.to.includes(email.toLowerCase()));
  }

  /** Waits for the `count`-th message to the address and returns it. */
  async waitForMessage(email: string, count = 1, timeoutMs = 5000): Promise<ReceivedMail> {
    const deadline = Date.now() + timeoutMs;
    while (this.messagesTo(email).length < count) {
      if (Date.now() > deadline) throw new Error(`no message #${count} for ${email} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
    return this.messagesTo(email)[count - 1];
  }

  /** The code in the newest message to the address. */
  async codeFor(email: string, count = 1): Promise<string> {
    const message = await this.waitForMessage(email, count);
    const code = /\b(\d{6,10})\b/.exec(message.text)?.[1];
    if (!code) throw new Error(`no code in the mail to ${email}`);
    return code;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
