import { MailerModule, MailerService } from '@nestjs-modules/mailer';
import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { DevMailboxTransport } from './dev-mailbox.transport';
import { DevOutboxController } from './dev-outbox.controller';
import { MailService } from './mail.service';
import { MailTransport } from './mail-transport';
import { mailerOptions, SmtpMailTransport } from './smtp-mail.transport';

@Module({
  imports: [
    MailerModule.forRootAsync({ inject: [APP_CONFIG], useFactory: (config: AppConfig) => mailerOptions(config.mail) }),
  ],
  controllers: [DevOutboxController],
  providers: [
    {
      provide: MailTransport,
      inject: [APP_CONFIG, MailerService],
      useFactory: (config: AppConfig, mailer: MailerService): MailTransport =>
        config.mail.server
          ? new SmtpMailTransport(mailer, config.mail)
          : new DevMailboxTransport(config.mail.outboxDir),
    },
    MailService,
  ],
  exports: [MailService],
})
export class MailModule {}
