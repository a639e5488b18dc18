import { MailerModule, MailerService } from '@nestjs-modules/mailer';
import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { DevMailboxTransport } from './dev-mailbox.transport';
import { DevOutboxController } from './dev-outbox.controller';
import { MailService } from './mail.service';
import { MailTransport } from './mail-transport';
import { SmtpMailTransport } from './smtp-mail.transport';

@Module({
  imports: [
    // SmtpMailTransport adds its own pooled transporter and passes MAIL_TIMEOUT_MS with each
    // message; the default transporter is never used.
    MailerModule.forRoot({ transport: { jsonTransport: true } }),
  ],
  controllers: [DevOutboxController],
  providers: [
    {
      provide: MailTransport,
      inject: [APP_CONFIG, MailerService],
      useFactory: (config: AppConfig, mailer: MailerService): MailTransport =>
        config.mail.server ? new SmtpMailTransport(mailer, config.mail) : new DevMailboxTransport(config.mail.outboxDir),
    },
    MailService,
  ],
  exports: [MailService],
})
export class MailModule {}
