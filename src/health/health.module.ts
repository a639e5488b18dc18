import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MailModule } from '../mail/mail.module';
import { StoreModule } from '../store/store.module';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), StoreModule, MailModule],
  controllers: [HealthController],
  providers: [HealthService],
})
export class HealthModule {}
