import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { domainToASCII } from 'node:url';
import { MailerModule, MailerService } from '@nestjs-modules/mailer';
import { Test } from '@nestjs/testing';
import { AddressObject, simpleParser } from 'mailparser';
import { createTransport } from 'nodemailer';
import { loadConfig } from '../../src/config/app-config';
import { listDevMailbox } from '../../src/mail/dev-mailbox.transport';
import { compileLocale, MailService } from '../../src/mail/mail.service';
import { MailRefusedError } from '../../src/mail/mail-transport';
import { AUTOMATED_MAIL_HEADERS, composeLoginMail } from '../../src/mail/login-mail.composer';
import { mailerOptions } from '../../src/mail/mailer-options';
import { Metrics } from '../../src/metrics/metrics';
import { freePort } from '../support/app-process';
import { describeWith } from '../support/services';
import { SmtpSink } from '../support/smtp-sink';
import { BACKENDS, startTestApp } from '../support/test-app';

const CODE = '482915';
const TTL_SECONDS = 300;

/** The real MailService on the mailer as the mail module configures it: SMTP to MAIL_SERVER, else the development mailbox. */
async function mailServiceFor(env: Record<string, string>) {
  const config = loadConfig({
    NODE_ENV: 'test',
    SECRET_KEY: randomBytes(32).toString('hex'),
    MAIL_SERVER: '127.0.0.1',
    MAIL_LOCALES: 'en,de',
    MAIL_TIMEOUT_MS: '2000',
    ...env,
  });
  const mailerModule = await Test.createTestingModule({
    imports: [MailerModule.forRoot(mailerOptions(config.mail))],
  }).compile();
  const metrics = new Metrics();
  const sut = new MailService(mailerModule.get(MailerService), metrics, config);
  return { sut, metrics, timeoutMs: config.mail.timeoutMs, close: () => mailerModule.close() };
}

type MailServiceUnderTest = Awaited<ReturnType<typeof mailServiceFor>>;

async function outcomes(metrics: Metrics): Promise<Record<string, number>> {
  const { values } = await metrics.mailDuration.get();
  return Object.fromEntries(
    values
      .filter((value) => value.metricName === 'mail_send_duration_seconds_count' && value.value > 0)
      .map((value) => [value.labels.outcome, value.value]),
  );
}

/** The header section exactly as received, one string per physical line. */
function headerLines(raw: Buffer): string[] {
  const text = raw.toString('latin1');
  return text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n');
}

/** The header field's value as written on the wire, continuation lines joined. */
function rawHeader(raw: Buffer, name: string): string {
  const unfolded = headerLines(raw)
    .join('\r\n')
    .replace(/\r\n[ \t]/g, ' ');
  return unfolded
    .split('\r\n')
    .find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))!
    .slice(name.length + 1)
    .trim();
}

/** A parser may show a punycode domain either way; compare addresses in their ASCII form. */
function asciiForm(address = ''): string {
  const at = address.lastIndexOf('@');
  return `${address.slice(0, at)}@${domainToASCII(address.slice(at + 1))}`;
}

function quoted(name: string): string {
  return `"${name.replace(/[\\"]/g, '\\$&')}"`;
}

const SENDERS: [label: string, name: string, address: string, wireAddress: string][] = [
  ['plain', 'Login', 'login@example.com', 'login@example.com'],
  ['comma', 'Login, Team', 'login@example.com', 'login@example.com'],
  ['parentheses', 'Login (no reply)', 'login@example.com', 'login@example.com'],
  ['quotes', 'The "Login" Team', 'login@example.com', 'login@example.com'],
  ['backslash', 'Login \\ Team', 'login@example.com', 'login@example.com'],
  ['non-ASCII with comma', 'Bücher & Co., Anmeldung', 'login@example.com', 'login@example.com'],
  ['non-ASCII with parentheses and quotes', 'Jürgen "Jö" Müller (Anmeldung)', 'login@example.com', 'login@example.com'],
  ['emoji', '🔐 Sign-in, Ünïcödé', 'login@example.com', 'login@example.com'],
  [
    'very long',
    'Anmeldung der Stadtbücherei Großröhrsdorf, Zweigstelle Süd (Öffnungszeiten beachten) '.repeat(4).trim(),
    'login@example.com',
    'login@example.com',
  ],
  ['internationalised sender domain', 'Bücher', 'login@bücher.de', 'login@xn--bcher-kva.de'],
];

const RECIPIENTS: [address: string, wireAddress: string][] = [
  ['ada@example.com', 'ada@example.com'],
  ['ada@bücher.de', 'ada@xn--bcher-kva.de'],
  ['grace.hopper+login@mail.straße.example', 'grace.hopper+login@mail.xn--strae-oqa.example'],
];

const LOCALES = ['en', 'de'];

/** name-addr with an atom phrase, a quoted string or RFC 2047 encoded words, or a bare address. */
const RFC5322_MAILBOX =
  /^(?:(?:[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?: [A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*|"(?:[^"\\]|\\.)*"|=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=(?: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=)*) <[^<>\s]+>|[^<>\s]+)$/;

describe('login mail headers, read back by a real parser from a real SMTP server', () => {
  const sink = new SmtpSink();
  beforeAll(() => sink.start());
  afterAll(() => sink.stop());

  describe.each(SENDERS)('from a sender name that is %s', (_label, name, senderAddress, senderWireAddress) => {
    let mail: MailServiceUnderTest;
    beforeAll(async () => {
      mail = await mailServiceFor({
        MAIL_PORT: String(sink.port),
        MAIL_DEFAULT_SENDER: `${quoted(name)} <${senderAddress}>`,
      });
    });
    afterAll(() => mail.close());

    const cases = RECIPIENTS.flatMap(([address, wireAddress]) =>
      LOCALES.map((locale) => [address, wireAddress, locale] as const),
    );
    it.each(cases)('to %s (%s on the wire) in %s', async (recipient, recipientWireAddress, locale) => {
      sink.envelopeCommands.splice(0);
      await mail.sut.sendLoginCode({ to: recipient, code: CODE, ttlSeconds: TTL_SECONDS, acceptLanguage: locale });
      // The sink keeps a message before it answers 250, and the send resolves only on that answer.
      const { raw, envelopeTo } = sink.messages[sink.messages.length - 1];
      const parsed = await simpleParser(raw);

      expect(parsed.from?.value).toHaveLength(1);
      expect(parsed.from?.value[0].name).toBe(name);
      expect(asciiForm(parsed.from?.value[0].address)).toBe(senderWireAddress);
      expect(rawHeader(raw, 'From').endsWith(`<${senderWireAddress}>`)).toBe(true);
      expect((parsed.to as AddressObject).value).toHaveLength(1);
      expect((parsed.to as AddressObject).value[0].name).toBe('');
      expect(asciiForm((parsed.to as AddressObject).value[0].address)).toBe(recipientWireAddress);
      expect(rawHeader(raw, 'To')).toBe(recipientWireAddress);
      expect(envelopeTo.map(asciiForm)).toEqual([recipientWireAddress]);
      expect(sink.envelopeCommands).toEqual([
        expect.stringMatching(new RegExp(`^MAIL FROM:<${senderWireAddress}>`)),
        `RCPT TO:<${recipientWireAddress}>`,
      ]);

      const rendered = compileLocale(locale).subject({ code: CODE, ttlMinutes: 5, lang: locale });
      expect(parsed.subject).toBe(rendered);
      expect(parsed.text).toContain(CODE);
      expect(parsed.headers.get('auto-submitted')).toBe('auto-generated');
      expect(parsed.headers.get('x-auto-response-suppress')).toBe('All');

      const lines = headerLines(raw);
      expect(lines.filter((line) => Buffer.byteLength(line, 'latin1') > 998)).toEqual([]);
      expect(lines.filter((line) => line.length > 78)).toEqual([]);
      expect(lines.filter((line) => /[^\x20-\x7e\t]/.test(line))).toEqual([]);
    });
  });

  it.each(LOCALES)(
    "ends the %s mail with the origin-bound code line of PUBLIC_URL's hostname, without its port",
    async (locale) => {
      const mail = await mailServiceFor({
        MAIL_PORT: String(sink.port),
        PUBLIC_URL: 'https://Login.Example.com:8443/base',
      });
      try {
        await mail.sut.sendLoginCode({
          to: 'ada@example.com',
          code: CODE,
          ttlSeconds: TTL_SECONDS,
          acceptLanguage: locale,
        });
        const parsed = await simpleParser(sink.messages[sink.messages.length - 1].raw);
        expect(parsed.text!.trimEnd().split('\n').at(-1)).toBe(`@login.example.com #${CODE}`);
        expect(parsed.html).toContain(`@login.example.com #${CODE}`);
      } finally {
        await mail.close();
      }
    },
  );

  it('keeps a non-ASCII local part in UTF-8 and asks for SMTPUTF8, which the server offers', async () => {
    const mail = await mailServiceFor({ MAIL_PORT: String(sink.port), MAIL_DEFAULT_SENDER: 'login@example.com' });
    try {
      sink.envelopeCommands.splice(0);
      await mail.sut.sendLoginCode({ to: 'jürgen@bücher.de', code: CODE, ttlSeconds: TTL_SECONDS });
      expect(sink.envelopeCommands).toEqual([
        expect.stringMatching(/^MAIL FROM:<login@example\.com>.* SMTPUTF8/),
        'RCPT TO:<jürgen@bücher.de>',
      ]);
      const parsed = await simpleParser((await sink.waitForMessage('jürgen@bücher.de')).raw);
      expect((parsed.to as AddressObject).value).toEqual([{ name: '', address: 'jürgen@bücher.de' }]);
    } finally {
      await mail.close();
    }
  });
});

describe('our composer, against nodemailer composing the same mail (differential)', () => {
  const nodemailerComposer = createTransport({ streamTransport: true, buffer: true });
  const mails = LOCALES.map((locale) => {
    const templates = compileLocale(locale);
    const context = {
      code: CODE,
      ttlMinutes: 5,
      signInUrl: `https://login.example/login/link?session=s&code=${CODE}`,
      lang: locale,
    };
    const subject = templates.subject(context);
    return { subject, text: templates.text(context), html: templates.html({ ...context, subject }) };
  });
  const cases = SENDERS.flatMap(([label, name, address]) =>
    RECIPIENTS.flatMap(([to]) =>
      mails.map((mail, i) => [label, LOCALES[i], to, { name, address }, { to, ...mail }] as const),
    ),
  );

  it.each(cases)(
    'reads the same from a sender name that is %s, in %s, to %s',
    async (_label, _locale, _to, from, mail) => {
      const ours = composeLoginMail(from, mail);
      expect(ours).not.toBeNull();
      const theirs = await nodemailerComposer.sendMail({
        from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        headers: AUTOMATED_MAIL_HEADERS,
      });
      const [a, b] = await Promise.all([simpleParser(ours!.raw), simpleParser(theirs.message as Buffer)]);
      const readable = (parsed: typeof a) => ({
        from: parsed.from?.value.map((box) => ({ name: box.name, address: asciiForm(box.address) })),
        to: (parsed.to as AddressObject).value.map((box) => ({ name: box.name, address: asciiForm(box.address) })),
        subject: parsed.subject,
        text: parsed.text?.replace(/\r\n/g, '\n').trimEnd(),
        html: typeof parsed.html === 'string' ? parsed.html.replace(/\r\n/g, '\n').trimEnd() : parsed.html,
        autoSubmitted: parsed.headers.get('auto-submitted'),
        autoResponseSuppress: parsed.headers.get('x-auto-response-suppress'),
      });
      expect(readable(a)).toEqual(readable(b));
      // Parsers forgive a bare comma or parenthesis in a name; RFC 5322's grammar does not.
      expect(rawHeader(Buffer.from(ours!.raw), 'From')).toMatch(RFC5322_MAILBOX);
      expect(ours!.envelope).toEqual({ from: asciiForm(from.address), to: [asciiForm(mail.to)] });
    },
  );

  it('leaves an address that needs SMTPUTF8 to nodemailer', () => {
    expect(
      composeLoginMail({ name: '', address: 'login@example.com' }, { to: 'jürgen@bücher.de', ...mails[0] }),
    ).toBeNull();
  });
});

describe('a refusal for good, told apart from an outage', () => {
  const sink = new SmtpSink();
  let mail: MailServiceUnderTest;
  beforeAll(async () => {
    await sink.start();
    mail = await mailServiceFor({ MAIL_PORT: String(sink.port) });
  });
  afterEach(() => {
    sink.mode = 'accept';
    sink.refusedRecipients.clear();
  });
  afterAll(async () => {
    await mail.close();
    await sink.stop();
  });

  const send = (to: string) => mail.sut.sendLoginCode({ to, code: CODE, ttlSeconds: TTL_SECONDS });
  const rejection = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => error,
    );

  it('rejects with MailRefusedError, the reply as its reason, when the server refuses the recipient with 550', async () => {
    sink.refusedRecipients.set('ghost@example.com', 550);
    const error = await rejection(send('ghost@example.com'));
    expect(error).toBeInstanceOf(MailRefusedError);
    expect((error as MailRefusedError).reason).toMatch(/^550 5\.1\.1 mailbox unavailable$/);
    expect((error as MailRefusedError).message).not.toContain(CODE);
    expect(sink.messagesTo('ghost@example.com')).toEqual([]);
    expect(await outcomes(mail.metrics)).toMatchObject({ refused: 1 });

    await send('next@example.com');
    expect(sink.messagesTo('next@example.com')).toHaveLength(1);
  });

  it('rejects with MailRefusedError when the server refuses the message itself with 550', async () => {
    sink.mode = 'reject';
    const error = await rejection(send('refused-data@example.com'));
    expect(error).toBeInstanceOf(MailRefusedError);
    expect((error as MailRefusedError).reason).toMatch(/^550 /);
  });

  it('treats a 451 as an outage: tries once more, then rejects with an error that is no refusal', async () => {
    sink.refusedRecipients.set('busy@example.com', 451);
    sink.envelopeCommands.splice(0);
    const error = await rejection(send('busy@example.com'));
    expect(error).toHaveProperty('message');
    expect(error).not.toBeInstanceOf(MailRefusedError);
    expect(sink.envelopeCommands.filter((line) => line === 'RCPT TO:<busy@example.com>')).toHaveLength(2);
    expect(await outcomes(mail.metrics)).toMatchObject({ failed: 1 });
  });

  it('treats a login the server refuses as an outage of ours, not a refusal of the message', async () => {
    const misconfigured = await mailServiceFor({
      MAIL_PORT: String(sink.port),
      MAIL_USERNAME: 'login',
      MAIL_PASSWORD: 'wrong',
    });
    try {
      const error = await rejection(
        misconfigured.sut.sendLoginCode({ to: 'ada@example.com', code: CODE, ttlSeconds: TTL_SECONDS }),
      );
      expect(error).toHaveProperty('message');
      expect(error).not.toBeInstanceOf(MailRefusedError);
    } finally {
      await misconfigured.close();
    }
  });

  it('delivers after a single 451 within the same call', async () => {
    sink.mode = 'defer-once';
    await send('deferred@example.com');
    expect(sink.messagesTo('deferred@example.com')).toHaveLength(1);
  });

  it('rejects a server that never answers within MAIL_TIMEOUT_MS, with an error that is no refusal', async () => {
    sink.mode = 'stall';
    const started = Date.now();
    const error = await rejection(send('stalled@example.com'));
    expect(error).toHaveProperty('message');
    expect(error).not.toBeInstanceOf(MailRefusedError);
    expect(Date.now() - started).toBeLessThan(mail.timeoutMs + 500);
  });

  it('rejects within the timeout, with an error that is no refusal, when nothing listens on the port', async () => {
    const unreachable = await mailServiceFor({ MAIL_PORT: String(await freePort()) });
    try {
      const started = Date.now();
      const error = await rejection(
        unreachable.sut.sendLoginCode({ to: 'ada@example.com', code: CODE, ttlSeconds: TTL_SECONDS }),
      );
      expect(error).toHaveProperty('message');
      expect(error).not.toBeInstanceOf(MailRefusedError);
      expect(Date.now() - started).toBeLessThan(unreachable.timeoutMs + 500);
      await expect(unreachable.sut.checkTransport()).rejects.toThrow('the SMTP server did not accept a connection');
      expect(await outcomes(unreachable.metrics)).toEqual({ failed: 1 });
    } finally {
      await unreachable.close();
    }
  });

  it('sends concurrent mail over at most 10 kept-open connections', async () => {
    const addresses = Array.from({ length: 25 }, (_, i) => `pooled${i}@example.com`);
    await Promise.all(addresses.map(send));
    addresses.forEach((address) => expect(sink.messagesTo(address)).toHaveLength(1));
    expect(sink.connectionCount).toBeGreaterThan(0);
    expect(sink.connectionCount).toBeLessThanOrEqual(10);
    await expect(mail.sut.checkTransport()).resolves.toBeUndefined();
  });
});

describe("the development mailbox, the mailer's transport without MAIL_SERVER", () => {
  let outbox: string;
  let mail: MailServiceUnderTest;
  beforeAll(async () => {
    outbox = mkdtempSync(join(tmpdir(), 'outbox-'));
    mail = await mailServiceFor({ MAIL_SERVER: '', MAIL_OUTBOX_DIR: outbox });
  });
  afterAll(async () => {
    await mail.close();
    rmSync(outbox, { recursive: true, force: true });
  });

  it('keeps each mail as readable JSON, one file per message, listed newest first', async () => {
    await mail.sut.sendLoginCode({ to: 'ada@bücher.de', code: CODE, ttlSeconds: TTL_SECONDS, acceptLanguage: 'de' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await mail.sut.sendLoginCode({ to: 'grace@example.com', code: '123456', ttlSeconds: TTL_SECONDS });

    const files = readdirSync(outbox);
    expect(files).toHaveLength(2);
    for (const file of files) expect(file).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-[0-9a-f]{8}\.json$/);
    const listed = await listDevMailbox(outbox);
    expect(listed.map((stored) => stored.to)).toEqual(['grace@example.com', 'ada@bücher.de']);
    const stored = listed[1];
    expect(Object.keys(stored)).toEqual(['id', 'createdAt', 'to', 'subject', 'text', 'html']);
    expect(files).toContain(`${stored.id}.json`);
    expect(stored.subject).toBe(compileLocale('de').subject({ code: CODE, ttlMinutes: 5, lang: 'de' }));
    expect(stored.text).toContain(CODE);
    expect(stored.html).toContain(CODE);
    expect(await outcomes(mail.metrics)).toEqual({ sent: 2 });
    expect(mail.sut.transportKind).toBe('development-mailbox');
    await expect(mail.sut.checkTransport()).resolves.toBeUndefined();
  });

  it('fails the send, as no refusal, and the readiness check when the outbox cannot be written', async () => {
    const blocker = join(outbox, 'not-a-folder');
    writeFileSync(blocker, '');
    const broken = await mailServiceFor({ MAIL_SERVER: '', MAIL_OUTBOX_DIR: join(blocker, 'outbox') });
    try {
      const error = await broken.sut.sendLoginCode({ to: 'ada@example.com', code: CODE, ttlSeconds: TTL_SECONDS }).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error).toHaveProperty('code', 'ENOTDIR');
      expect(error).not.toBeInstanceOf(MailRefusedError);
      await expect(broken.sut.checkTransport()).rejects.toThrow(
        'the development mailbox cannot write to MAIL_OUTBOX_DIR',
      );
    } finally {
      await broken.close();
    }
  });
});

for (const { backend, needs } of BACKENDS) {
  describeWith(needs, `the mail module in the application on ${backend}`, () => {
    it('mails the code through the pooled SMTP transport, From the configured name, To an internationalised domain', async () => {
      const app = await startTestApp({
        backend,
        env: { MAIL_LOCALES: 'en,de', MAIL_DEFAULT_SENDER: '"Bücher & Co., Anmeldung" <login@example.com>' },
      });
      try {
        const response = await app.request('POST', '/api/v1/auth/otp', {
          json: { email: 'ada@bücher.de' },
          headers: { 'accept-language': 'de' },
        });
        expect(response.status).toBe(202);
        const { raw } = await app.sink.waitForMessage('ada@bücher.de');
        const parsed = await simpleParser(raw);
        expect(parsed.from?.value).toEqual([{ name: 'Bücher & Co., Anmeldung', address: 'login@example.com' }]);
        expect(rawHeader(raw, 'To')).toBe('ada@xn--bcher-kva.de');
        expect(parsed.subject).toMatch(/^Ihr Anmeldecode: \d{6}$/);
        expect(parsed.headers.get('auto-submitted')).toBe('auto-generated');
      } finally {
        await app.close();
      }
    });
  });
}
