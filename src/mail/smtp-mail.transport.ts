import { MailerService } from '@nestjs-modules/mailer';
import { MailTransport, OutgoingMail } from './mail-transport';

export class SmtpMailTransport extends MailTransport {
  readonly kind = 'smtp' as const;

  constructor(
    private readonly mailer: MailerService,
    private readonly from: string,
  ) {
    super();
  }

  async send(mail: OutgoingMail): Promise<void> {
    await this.mailer.sendMail({ from: this.from, ...mail });
  }

  async check(): Promise<void> {
    if (!(await this.mailer.verifyAllTransporters())) throw new Error('the SMTP server did not accept a connection');
  }
}
