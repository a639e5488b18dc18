import { randomUUID } from 'node:crypto';
import addressparser from 'nodemailer/lib/addressparser';
import { encodeWords, isPlainText, quoteString } from 'nodemailer/lib/mime-funcs';
import { OutgoingMail } from './mail-transport';

export interface Mailbox {
  name: string;
  address: string;
}

/** `Name <address>` or a bare address, as MAIL_DEFAULT_SENDER is written. */
export function parseMailbox(value: string): Mailbox {
  const parsed = addressparser(value, { flatten: true });
  const [first] = parsed;
  if (parsed.length !== 1 || !first.address?.includes('@')) throw new Error(`"${value}" is not one email address`);
  return { name: first.name, address: first.address };
}

export function isMailbox(value: string): boolean {
  try {
    return Boolean(parseMailbox(value));
  } catch {
    return false;
  }
}

export interface ComposedMessage {
  messageId: string;
  raw: string;
}

/**
 * The whole RFC 5322 message of a login mail, text and HTML as alternatives, each base64 so no
 * line is too long and no character needs escaping. Built in one string, it goes to the SMTP
 * socket in one write, where a composer stream would write each header and chunk on its own.
 */
export function composeMessage(from: Mailbox, mail: OutgoingMail, now = new Date()): ComposedMessage {
  const boundary = `=_${randomUUID()}`;
  const domain = from.address.slice(from.address.lastIndexOf('@') + 1) || 'localhost';
  const messageId = `<${randomUUID()}@${domain}>`;
  const raw = [
    `From: ${formatMailbox(from)}`,
    `To: ${mail.to}`,
    `Subject: ${encodeWords(mail.subject, 'B', 52)}`,
    `Date: ${now.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative;',
    ` boundary="${boundary}"`,
    '',
    `--${boundary}`,
    ...part('text/plain', mail.text),
    `--${boundary}`,
    ...part('text/html', mail.html),
    `--${boundary}--`,
    '',
  ].join('\r\n');
  return { messageId, raw };
}

function part(contentType: string, body: string): string[] {
  const base64 = Buffer.from(body.replace(/\r?\n/g, '\r\n'), 'utf8').toString('base64');
  return [`Content-Type: ${contentType}; charset=utf-8`, 'Content-Transfer-Encoding: base64', '', ...(base64.match(/.{1,76}/g) ?? [])];
}

function formatMailbox({ name, address }: Mailbox): string {
  if (!name) return address;
  const displayName = isPlainText(name) ? (/^[\w ']*$/.test(name) ? name : quoteString(name)) : encodeWords(name, 'B', 52);
  return `${displayName} <${address}>`;
}
