import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { MailTransport, OutgoingMail } from './mail-transport';

export interface StoredMail extends OutgoingMail {
  id: string;
  createdAt: string;
}

/**
 * Development only: keeps each message as JSON under the outbox folder and prints it, so the
 * service runs with no mail server. This is the one place where a code may appear in a log.
 */
export class DevMailboxTransport extends MailTransport {
  readonly kind = 'development-mailbox' as const;
  private readonly logger = new Logger('DevMailbox');

  constructor(private readonly outboxDir: string) {
    super();
  }

  async send(mail: OutgoingMail): Promise<void> {
    const createdAt = new Date().toISOString();
    const id = `${createdAt.replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}`;
    await mkdir(this.outboxDir, { recursive: true });
    await writeFile(join(this.outboxDir, `${id}.json`), JSON.stringify({ id, createdAt, ...mail }, null, 2));
    this.logger.log(`To: ${mail.to} | Subject: ${mail.subject}\n${mail.text}`);
  }

  async check(): Promise<void> {
    await mkdir(this.outboxDir, { recursive: true });
  }

  async list(limit = 50): Promise<StoredMail[]> {
    const files = await readdir(this.outboxDir).catch(() => [] as string[]);
    const newest = files
      .filter((file) => file.endsWith('.json'))
      .sort()
      .reverse()
      .slice(0, limit);
    return Promise.all(
      newest.map(async (file) => JSON.parse(await readFile(join(this.outboxDir, file), 'utf8')) as StoredMail),
    );
  }
}
