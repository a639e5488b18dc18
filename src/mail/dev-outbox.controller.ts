import { Controller, Get, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { Public } from '../common/principal';
import { ProblemException } from '../common/problem.exception';
import { listDevMailbox } from './dev-mailbox.transport';

/** GET /dev/outbox: the development mailbox, newest first. Absent outside development. */
@ApiExcludeController()
@Controller('dev/outbox')
export class DevOutboxController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Public()
  @Get()
  async list() {
    // With MAIL_SERVER set the mailer sends over SMTP and there is no development mailbox.
    if (this.config.env !== 'development' || this.config.mail.server) {
      throw new ProblemException('not_found', 'No such resource.');
    }
    return { items: await listDevMailbox(this.config.mail.outboxDir) };
  }
}
