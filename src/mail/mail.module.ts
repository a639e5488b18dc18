import { MailerModule } from '@nestjs-modules/mailer';
import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { DevOutboxController } from './dev-outbox.controller';
import { MailService } from './mail.service';
import { mailerOptions } from './mailer-options';

@Module({
  imports: [
    MailerModule.forRootAsync({ inject: [APP_CONFIG], useFactory: (config: AppConfig) => mailerOptions(config.mail) }),
  ],
  controllers: [DevOutboxController],
  providers: [MailService],
  exports: [MailService],
})
export class MailModule {}
