import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MailerService } from '@nestjs-modules/mailer';
import { Inject, Injectable } from '@nestjs/common';
import Handlebars from 'handlebars';
import type { NodemailerError } from 'nodemailer';
import { AppConfig, ConfigError } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { Mailbox, parseMailbox } from '../config/mailbox';
import { Metrics } from '../metrics/metrics';
import { AUTOMATED_MAIL_HEADERS, composeLoginMail } from './login-mail.composer';
import { MailRefusedError, MailTransportKind, OutgoingMail } from './mail-transport';

export interface LoginCodeMail {
  to: string;
  code: string;
  ttlSeconds: number;
  signInUrl?: string;
  /** The client's Accept-Language header. */
  acceptLanguage?: string | null;
}

/** A code for a signed-in user's new address: no sign-in link, it proves the address only. */
export interface EmailChangeCodeMail {
  to: string;
  code: string;
  ttlSeconds: number;
  acceptLanguage?: string | null;
}

/** To the old address after a change: the new one partly masked, and nothing to click. */
export interface EmailChangedNoticeMail {
  to: string;
  newEmail: string;
  acceptLanguage?: string | null;
}

interface MailTemplates {
  subject: Handlebars.TemplateDelegate;
  text: Handlebars.TemplateDelegate;
  html: Handlebars.TemplateDelegate;
}

interface LocaleTemplates extends MailTemplates {
  lang: string;
  emailChangeCode: MailTemplates;
  emailChangedNotice: MailTemplates;
}

const TEMPLATES_DIR = join(__dirname, 'templates');
/** Connection trouble and 4xx replies may pass; a 5xx reply will not. */
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'ECONNRESET', 'EDNS']);
const MIN_RETRY_BUDGET_MS = 200;
/** A 5xx reply to these commands refuses the message; one to AUTH or HELO is our configuration. */
const MESSAGE_COMMANDS = new Set(['MAIL FROM', 'RCPT TO', 'DATA']);
const MAX_REASON_LENGTH = 200;
const HEALTH_CHECK_INTERVAL_MS = 30_000;
/** What readiness reports when MailerService.verifyAllTransporters() fails. */
const UNAVAILABLE: Record<MailTransportKind, string> = {
  smtp: 'the SMTP server did not accept a connection',
  'development-mailbox': 'the development mailbox cannot write to MAIL_OUTBOX_DIR',
};

/**
 * What the service mails and in which language (templates compiled once at startup), handed to
 * @nestjs-modules/mailer's MailerService: over nodemailer's SMTP pool to MAIL_SERVER, or to the
 * development mailbox without it (mailer-options.ts).
 */
@Injectable()
export class MailService {
  readonly transportKind: MailTransportKind;
  private readonly locales = new Map<string, LocaleTemplates>();
  private readonly fallbackLocale: string;
  private readonly from: Mailbox;
  private readonly timeoutMs: number;
  /** PUBLIC_URL's hostname, without port: the origin the code is bound to in its last line. */
  private readonly codeOrigin: string;
  private lastCheck?: { at: number; result: Promise<void> };

  constructor(
    private readonly mailer: MailerService,
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    for (const locale of config.mail.locales) this.locales.set(locale, compileLocale(locale));
    this.fallbackLocale = config.mail.locales[0];
    this.transportKind = config.mail.server ? 'smtp' : 'development-mailbox';
    // Validated at startup; nodemailer encodes the name and punycodes the domain.
    this.from = parseMailbox(config.mail.defaultSender)!;
    this.timeoutMs = config.mail.timeoutMs;
    this.codeOrigin = new URL(config.http.publicUrl).hostname;
  }

  /** The transport's health, checked at most every 30 s: an SMTP check opens a connection. */
  checkTransport(now = Date.now()): Promise<void> {
    if (!this.lastCheck || now - this.lastCheck.at > HEALTH_CHECK_INTERVAL_MS) {
      const result = this.mailer.verifyAllTransporters().then((ready) => {
        if (!ready) throw new Error(UNAVAILABLE[this.transportKind]);
      });
      result.catch(() => undefined);
      this.lastCheck = { at: now, result };
    }
    return this.lastCheck.result;
  }

  /**
   * Resolves once the server took the message; rejects with MailRefusedError when it refused it
   * for good, with any other error when the server could not be reached in time.
   */
  async sendLoginCode(mail: LoginCodeMail): Promise<void> {
    const templates = this.locales.get(this.pickLocale(mail.acceptLanguage))!;
    const context = {
      code: mail.code,
      ttlMinutes: Math.max(1, Math.round(mail.ttlSeconds / 60)),
      signInUrl: mail.signInUrl,
      // The origin-bound code line (WebKit's and Chrome's format) that lets browsers offer the code on our site only.
      autofillLine: `@${this.codeOrigin} #${mail.code}`,
      lang: templates.lang,
    };
    await this.sendTemplated(mail.to, templates, context);
  }

  async sendEmailChangeCode(mail: EmailChangeCodeMail): Promise<void> {
    const templates = this.locales.get(this.pickLocale(mail.acceptLanguage))!;
    await this.sendTemplated(mail.to, templates.emailChangeCode, {
      code: mail.code,
      ttlMinutes: Math.max(1, Math.round(mail.ttlSeconds / 60)),
      autofillLine: `@${this.codeOrigin} #${mail.code}`,
      lang: templates.lang,
    });
  }

  async sendEmailChangedNotice(mail: EmailChangedNoticeMail): Promise<void> {
    const templates = this.locales.get(this.pickLocale(mail.acceptLanguage))!;
    await this.sendTemplated(mail.to, templates.emailChangedNotice, {
      maskedEmail: maskEmail(mail.newEmail),
      lang: templates.lang,
    });
  }

  private async sendTemplated(to: string, templates: MailTemplates, context: Record<string, unknown>): Promise<void> {
    const subject = templates.subject(context);
    const stopTimer = this.metrics.mailDuration.startTimer({ transport: this.transportKind });
    try {
      await this.send({
        to,
        subject,
        text: templates.text(context),
        html: templates.html({ ...context, subject }),
      });
      stopTimer({ outcome: 'sent' });
    } catch (error) {
      stopTimer({ outcome: error instanceof MailRefusedError ? 'refused' : 'failed' });
      throw error;
    }
  }

  /** Hands the message over, retrying a transient failure once, all within MAIL_TIMEOUT_MS. */
  private async send(mail: OutgoingMail): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    try {
      await this.deliver(mail, this.timeoutMs);
    } catch (error) {
      const remaining = deadline - Date.now();
      if (!isTransient(error) || remaining < MIN_RETRY_BUDGET_MS) throw error;
      await this.deliver(mail, remaining);
    }
  }

  /**
   * To an SMTP server our composed message goes as `raw`: nodemailer's composer and its stream
   * pipeline cost about twice the CPU per message (docs/architecture/0001-login-mail-composer.md).
   * An address that needs SMTPUTF8 is left to nodemailer's composer, and so is every mail to the
   * development mailbox, which keeps the subject, text and HTML readable rather than base64.
   */
  private async deliver(mail: OutgoingMail, timeout: number): Promise<void> {
    const { to, subject, text, html } = mail;
    const composed = this.transportKind === 'smtp' ? composeLoginMail(this.from, mail) : null;
    try {
      await this.mailer.sendMail(
        composed
          ? { ...composed, timeout }
          : { from: this.from, to, subject, text, html, headers: AUTOMATED_MAIL_HEADERS, timeout },
      );
    } catch (error) {
      throw asRefusal(error) ?? error;
    }
  }

  /** The first of the client's languages (by q-value) that we ship, else the first configured. */
  pickLocale(acceptLanguage?: string | null): string {
    const wanted = (acceptLanguage ?? '')
      .split(',')
      .map((part) => {
        const [tag, ...params] = part.trim().split(';');
        const q = params.map((param) => /^\s*q=([\d.]+)\s*$/.exec(param)?.[1]).find(Boolean);
        return { tag: tag.trim().toLowerCase(), q: q === undefined ? 1 : Number(q) };
      })
      .filter((entry) => entry.tag && entry.q > 0)
      .sort((a, b) => b.q - a.q);
    for (const { tag } of wanted) {
      if (this.locales.has(tag)) return tag;
      const base = tag.split('-')[0];
      if (this.locales.has(base)) return base;
    }
    return this.fallbackLocale;
  }
}

/** Checked before the application starts, so a missing language is a one-line startup error. */
export function assertMailLocalesShipped(locales: string[]): void {
  const missing = locales.find((locale) => !existsSync(join(TEMPLATES_DIR, locale, 'messages.json')));
  if (missing) throw new ConfigError('MAIL_LOCALES', `names "${missing}", for which no mail templates ship`);
}

export function compileLocale(locale: string): LocaleTemplates {
  const dir = join(TEMPLATES_DIR, locale);
  const messages = JSON.parse(readFileSync(join(dir, 'messages.json'), 'utf8')) as Record<
    'subject' | 'emailChangeCodeSubject' | 'emailChangedNoticeSubject' | 'lang',
    string
  >;
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  const compile = (subject: string, name: string): MailTemplates => ({
    subject: Handlebars.compile(subject, { noEscape: true, strict: true }),
    text: Handlebars.compile(read(`${name}.text.hbs`), { noEscape: true }),
    html: Handlebars.compile(read(`${name}.html.hbs`)),
  });
  return {
    lang: messages.lang,
    ...compile(messages.subject, 'login-code'),
    emailChangeCode: compile(messages.emailChangeCodeSubject, 'email-change-code'),
    emailChangedNotice: compile(messages.emailChangedNoticeSubject, 'email-changed-notice'),
  };
}

/**
 * `n…@e…e.com`: enough for the owner to recognise their new address, not enough for someone
 * reading the old mailbox to learn it.
 */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const host = dot > 0 ? domain.slice(0, dot) : domain;
  const tld = dot > 0 ? domain.slice(dot) : '';
  const first = (text: string) => Array.from(text)[0] ?? '';
  return `${first(local)}…@${first(host)}…${tld}`;
}

function isTransient(error: unknown): boolean {
  const { responseCode, code } = error as NodemailerError;
  return (
    (responseCode !== undefined && responseCode >= 400 && responseCode < 500) ||
    (code !== undefined && TRANSIENT_CODES.has(code))
  );
}

function asRefusal(error: unknown): MailRefusedError | undefined {
  const { responseCode, response, command } = error as NodemailerError;
  if (
    responseCode === undefined ||
    responseCode < 500 ||
    responseCode > 599 ||
    !command ||
    !MESSAGE_COMMANDS.has(command)
  )
    return undefined;
  // eslint-disable-next-line no-control-regex -- the server's reply goes to the audit trail on one line
  const reply = typeof response === 'string' ? response.replace(/[\x00-\x1f\x7f\s]+/g, ' ').trim() : '';
  return new MailRefusedError((reply || String(responseCode)).slice(0, MAX_REASON_LENGTH));
}
