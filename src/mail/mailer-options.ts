import { MailerOptions } from '@nestjs-modules/mailer';
import { MailConfig } from '../config/app-config';
import { DevMailboxTransport } from './dev-mailbox.transport';

/** Each connection carries one message at a time; a pool as wide as the usual concurrency. */
const MAX_CONNECTIONS = 10;

/**
 * The mailer's options: nodemailer's pooled SMTP transport to MAIL_SERVER or, without it, the
 * development mailbox as a nodemailer custom transport.
 */
export function mailerOptions(config: MailConfig): MailerOptions {
  if (!config.server) return { transport: new DevMailboxTransport(config.outboxDir) };
  return {
    transport: {
      pool: true,
      maxConnections: MAX_CONNECTIONS,
      host: config.server,
      port: config.port,
      secure: config.useSsl,
      requireTLS: config.useTls,
      ignoreTLS: !config.useTls && !config.useSsl,
      auth: config.username ? { user: config.username, pass: config.password ?? '' } : undefined,
      connectionTimeout: config.timeoutMs,
      greetingTimeout: config.timeoutMs,
      socketTimeout: config.timeoutMs,
    },
  };
}
