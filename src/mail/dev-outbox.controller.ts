import { Controller, Get, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { Public } from '../common/principal';
import { ProblemException } from '../common/problem.exception';
import { DevMailboxTransport } from './dev-mailbox.transport';
import { MailTransport } from './mail-transport';

/** GET /dev/outbox: the development mailbox, newest first. Absent outside development. */
@ApiExcludeController()
@Controller('dev/outbox')
export class DevOutboxController {
  constructor(
    private readonly transport: MailTransport,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Public()
  @Get()
  async list() {
    if (this.config.env !== 'development' || !(this.transport instanceof DevMailboxTransport)) {
      throw new ProblemException('not_found', 'No such resource.');
    }
    return { items: await this.transport.list() };
  }
}
