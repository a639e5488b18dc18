import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { MailMessage, SentMessageInfo, Transport } from 'nodemailer';
import { OutgoingMail } from './mail-transport';

type SendCallback = Parameters<Transport<SentMessageInfo>['send']>[1];

export interface StoredMail extends Partial<OutgoingMail> {
  id: string;
  createdAt: string;
  /** Only for a message handed over already composed. */
  raw?: string;
}

/**
 * Development only: a nodemailer custom transport that keeps each message as JSON under the outbox
 * folder and prints it, so the service runs with no mail server. This is the one place where a code
 * may appear in a log.
 */
export class DevMailboxTransport implements Transport<SentMessageInfo> {
  readonly name = 'development-mailbox';
  readonly version = '1.0.0';
  private readonly logger = new Logger('DevMailbox');

  constructor(private readonly outboxDir: string) {}

  send(mail: MailMessage<SentMessageInfo>, callback: SendCallback): void {
    this.keep(mail).then(
      () => callback(null, { envelope: mail.message.getEnvelope(), messageId: mail.message.messageId() }),
      (error: Error) => callback(error),
    );
  }

  /** Called by MailerService.verifyAllTransporters, the readiness check. */
  async verify(): Promise<true> {
    await mkdir(this.outboxDir, { recursive: true });
    return true;
  }

  private async keep({ data, message }: MailMessage<SentMessageInfo>): Promise<void> {
    const createdAt = new Date().toISOString();
    const id = `${createdAt.replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}`;
    const stored: StoredMail = {
      id,
      createdAt,
      to: typeof data.to === 'string' ? data.to : message.getEnvelope().to.join(', '),
      subject: data.subject,
      text: asString(data.text),
      html: asString(data.html),
      raw: asString(data.raw),
    };
    await mkdir(this.outboxDir, { recursive: true });
    await writeFile(join(this.outboxDir, `${id}.json`), JSON.stringify(stored, null, 2));
    this.logger.log(`To: ${stored.to} | Subject: ${stored.subject}\n${stored.text}`);
  }
}

/** The development mailbox's messages, newest first. */
export async function listDevMailbox(outboxDir: string, limit = 50): Promise<StoredMail[]> {
  const files = await readdir(outboxDir).catch(() => [] as string[]);
  const newest = files
    .filter((file) => file.endsWith('.json'))
    .sort()
    .reverse()
    .slice(0, limit);
  return Promise.all(
    newest.map(async (file) => JSON.parse(await readFile(join(outboxDir, file), 'utf8')) as StoredMail),
  );
}

function asString(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  return Buffer.isBuffer(content) ? content.toString('utf8') : undefined;
}
