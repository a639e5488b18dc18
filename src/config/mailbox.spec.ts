import { isMailbox, parseMailbox } from './mailbox';

describe('parseMailbox', () => {
  it.each([
    ['login@example.com', { name: '', address: 'login@example.com' }],
    ['no-reply@localhost', { name: '', address: 'no-reply@localhost' }],
    ['Login <login@example.com>', { name: 'Login', address: 'login@example.com' }],
    ['<login@example.com>', { name: '', address: 'login@example.com' }],
    [
      '"Bücher & Co., Anmeldung" <login@example.com>',
      { name: 'Bücher & Co., Anmeldung', address: 'login@example.com' },
    ],
    ['Bücher & Co., Anmeldung <login@example.com>', { name: 'Bücher & Co., Anmeldung', address: 'login@example.com' }],
    ['"Say \\"hi\\" (\\\\o/)" <login@example.com>', { name: 'Say "hi" (\\o/)', address: 'login@example.com' }],
    ['  Ops (login)<login@bücher.de>  ', { name: 'Ops (login)', address: 'login@bücher.de' }],
  ])('reads %j', (value, mailbox) => expect(parseMailbox(value)).toEqual(mailbox));

  it.each([
    'nobody',
    '',
    'a@example.com, b@example.com',
    'Login <nobody>',
    'Login login@example.com',
    '"Unclosed <login@example.com>',
    'Half "quoted" <login@example.com>',
    'Two <a@example.com> <b@example.com>',
    '<a@example.com> trailing',
    'Login <login@example.com>\r\nBcc: x@example.com',
  ])('refuses %j', (value) => expect(isMailbox(value)).toBe(false));
});
