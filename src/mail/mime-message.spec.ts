import { simpleParser } from 'mailparser';
import { composeMessage, isMailbox, parseMailbox } from './mime-message';

const mail = { to: 'ada@example.com', subject: 'Ihr Anmeldecode: 123456 – gültig', text: 'Ihr Code: 123456\nLänger als eine Zeile? '.repeat(8), html: '<p>Code <b>123456</b> für Sie</p>' };

describe('composeMessage', () => {
  it('is a message any MIME parser reads back: headers, text and HTML alternatives', async () => {
    const { messageId, raw } = composeMessage(parseMailbox('"Ops, Inc." <login@example.com>'), mail, new Date('2026-11-24T10:00:00Z'));
    const parsed = await simpleParser(raw);
    expect(parsed.from?.value).toEqual([{ name: 'Ops, Inc.', address: 'login@example.com' }]);
    expect(parsed.to).toMatchObject({ value: [{ address: 'ada@example.com' }] });
    expect(parsed.subject).toBe(mail.subject);
    expect(parsed.date?.toISOString()).toBe('2026-11-24T10:00:00.000Z');
    expect(parsed.messageId).toMatch(/^<[0-9a-f-]{36}@example\.com>$/);
    expect(parsed.messageId).toBe(messageId);
    expect(parsed.text?.replace(/\r\n/g, '\n')).toBe(mail.text);
    expect(parsed.html).toBe(mail.html);
  });

  it('keeps every line 7-bit and within the 78 characters SMTP servers expect', () => {
    const { raw } = composeMessage(parseMailbox('Jürgen Müller <login@example.com>'), mail);
    const lines = raw.split('\r\n');
    expect(lines.every((line) => line.length <= 78 && /^[\x20-\x7e]*$/.test(line))).toBe(true);
    expect(raw.endsWith('--\r\n')).toBe(true);
  });
});

describe('parseMailbox', () => {
  it.each([
    ['login@example.com', { name: '', address: 'login@example.com' }],
    ['Login <login@example.com>', { name: 'Login', address: 'login@example.com' }],
  ])('reads %s', (value, mailbox) => expect(parseMailbox(value)).toEqual(mailbox));

  it.each(['nobody', 'a@example.com, b@example.com', ''])('refuses %p', (value) => expect(isMailbox(value)).toBe(false));
});
