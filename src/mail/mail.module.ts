import { MailerModule, MailerOptions, MailerService } from '@nestjs-modules/mailer';
import { Module } from '@nestjs/common';
import { AppConfig, MailConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { DevMailboxTransport } from './dev-mailbox.transport';
import { DevOutboxController } from './dev-outbox.controller';
import { MailService } from './mail.service';
import { MailTransport } from './mail-transport';
import { SmtpMailTransport } from './smtp-mail.transport';

function smtpOptions(mail: MailConfig) {
  return {
    host: mail.server,
    port: mail.port,
    secure: mail.useSsl,
    requireTLS: mail.useTls,
    ignoreTLS: !mail.useTls && !mail.useSsl,
    auth: mail.username ? { user: mail.username, pass: mail.password ?? '' } : undefined,
    pool: true,
    // Each connection carries one message at a time; a pool as wide as the usual concurrency.
    maxConnections: 10,
    maxMessages: Infinity,
    connectionTimeout: mail.timeoutMs,
    greetingTimeout: mail.timeoutMs,
    socketTimeout: mail.timeoutMs,
  };
}

@Module({
  imports: [
    MailerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): MailerOptions => ({
        // Without MAIL_SERVER the mailer is unused; jsonTransport keeps it from opening sockets.
        transport: config.mail.server ? smtpOptions(config.mail) : { jsonTransport: true },
        sendTimeout: config.mail.timeoutMs,
      }),
    }),
  ],
  controllers: [DevOutboxController],
  providers: [
    {
      provide: MailTransport,
      inject: [APP_CONFIG, MailerService],
      useFactory: (config: AppConfig, mailer: MailerService): MailTransport =>
        config.mail.server ? new SmtpMailTransport(mailer, config.mail.defaultSender, config.mail.timeoutMs) : new DevMailboxTransport(config.mail.outboxDir),
    },
    MailService,
  ],
  exports: [MailService],
})
export class MailModule {}
