import { randomUUID } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { OutgoingMail } from './mail-transport';
import { Mailbox } from '../config/mailbox';

/** Machine-sent mail (RFC 3834): vacation responders and Exchange must not answer it. */
export const AUTOMATED_MAIL_HEADERS = { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' };

export interface ComposedMail {
  envelope: { from: string; to: string[] };
  raw: string;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
/** RFC 5322 atext plus spaces: a display name that needs no quoting. */
const PLAIN_PHRASE = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]*$/;
/** 42 bytes are 56 base64 characters: `Subject: =?UTF-8?B?…?=` stays within 78 characters. */
const ENCODED_WORD_BYTES = 42;
const MAX_LINE = 78;
/** Longer ASCII text is encoded too, so that no header line passes 78 characters. */
const MAX_PLAIN_TEXT = 60;

/**
 * The whole RFC 5322 message of a login mail, or null when an address needs SMTPUTF8 (a non-ASCII
 * local part), which is left to nodemailer's composer. Text and HTML go as base64 alternatives,
 * names and subjects as RFC 2047 encoded words folded under 78 characters, domains as punycode.
 * Held to nodemailer's own output by a differential test (test/e2e/mail.e2e-spec.ts).
 */
export function composeLoginMail(from: Mailbox, mail: OutgoingMail, now = new Date()): ComposedMail | null {
  const sender = asciiAddress(from.address);
  const recipient = asciiAddress(mail.to);
  if (!sender || !recipient) return null;
  const boundary = `=_${randomUUID()}`;
  const headers = [
    `From: ${from.name ? mailbox(phrase(from.name), sender) : sender}`,
    `To: ${recipient}`,
    `Subject: ${unstructured(mail.subject)}`,
    `Date: ${now.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${randomUUID()}@${sender.slice(sender.lastIndexOf('@') + 1)}>`,
    ...Object.entries(AUTOMATED_MAIL_HEADERS).map(([name, value]) => `${name}: ${value}`),
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative;',
    ` boundary="${boundary}"`,
  ];
  const raw = [
    ...headers,
    '',
    `--${boundary}`,
    ...base64Part('text/plain', mail.text),
    `--${boundary}`,
    ...base64Part('text/html', mail.html),
    `--${boundary}--`,
    '',
  ].join('\r\n');
  return { envelope: { from: sender, to: [recipient] }, raw };
}

/** The address with its domain in punycode; null when the local part is not ASCII. */
function asciiAddress(address: string): string | null {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const domain = domainToASCII(address.slice(at + 1));
  return PRINTABLE_ASCII.test(local) && domain ? `${local}@${domain}` : null;
}

/** `name <address>`, the address on a folded line of its own when the last line would be too long. */
function mailbox(name: string, address: string): string {
  const lastLine = `From: ${name}`.split('\r\n').pop()!;
  return lastLine.length + address.length + 3 > MAX_LINE ? `${name}\r\n <${address}>` : `${name} <${address}>`;
}

function phrase(name: string): string {
  if (!PRINTABLE_ASCII.test(name) || name.length > MAX_PLAIN_TEXT) return encodedWords(name);
  return PLAIN_PHRASE.test(name) ? name : `"${name.replace(/[\\"]/g, '\\$&')}"`;
}

function unstructured(text: string): string {
  return PRINTABLE_ASCII.test(text) && text.length <= MAX_PLAIN_TEXT ? text : encodedWords(text);
}

/** Base64 encoded words, split between characters, one per folded line. */
function encodedWords(text: string): string {
  const words: string[] = [];
  let chunk = '';
  for (const char of text) {
    if (Buffer.byteLength(chunk + char) > ENCODED_WORD_BYTES) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word).toString('base64')}?=`).join('\r\n ');
}

function base64Part(contentType: string, body: string): string[] {
  const base64 = Buffer.from(body.replace(/\r?\n/g, '\r\n')).toString('base64');
  return [
    `Content-Type: ${contentType}; charset=utf-8`,
    'Content-Transfer-Encoding: base64',
    '',
    ...(base64.match(/.{1,76}/g) ?? []),
  ];
}
