import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import Handlebars from 'handlebars';
import { AppConfig, ConfigError } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { Metrics } from '../metrics/metrics';
import { MailRefusedError, MailTransport } from './mail-transport';

export interface LoginCodeMail {
  to: string;
  code: string;
  ttlSeconds: number;
  signInUrl?: string;
  /** The client's Accept-Language header. */
  acceptLanguage?: string | null;
}

interface LocaleTemplates {
  lang: string;
  subject: Handlebars.TemplateDelegate;
  text: Handlebars.TemplateDelegate;
  html: Handlebars.TemplateDelegate;
}

const TEMPLATES_DIR = join(__dirname, 'templates');

/** What the service mails and in which language; templates are compiled once at startup. */
@Injectable()
export class MailService {
  private readonly locales = new Map<string, LocaleTemplates>();
  private readonly fallbackLocale: string;

  constructor(
    private readonly transport: MailTransport,
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    for (const locale of config.mail.locales) this.locales.set(locale, compileLocale(locale));
    this.fallbackLocale = config.mail.locales[0];
  }

  get transportKind(): MailTransport['kind'] {
    return this.transport.kind;
  }

  private lastCheck?: { at: number; result: Promise<void> };

  /** The transport's health, checked at most every 30 s: an SMTP check opens a connection. */
  checkTransport(now = Date.now()): Promise<void> {
    if (!this.lastCheck || now - this.lastCheck.at > 30_000) {
      const result = this.transport.check();
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
      lang: templates.lang,
    };
    const subject = templates.subject(context);
    const stopTimer = this.metrics.mailDuration.startTimer({ transport: this.transport.kind });
    try {
      await this.transport.send({
        to: mail.to,
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
  const messages = JSON.parse(readFileSync(join(dir, 'messages.json'), 'utf8')) as { subject: string; lang: string };
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  return {
    lang: messages.lang,
    subject: Handlebars.compile(messages.subject, { noEscape: true, strict: true }),
    text: Handlebars.compile(read('login-code.text.hbs'), { noEscape: true }),
    html: Handlebars.compile(read('login-code.html.hbs')),
  };
}
