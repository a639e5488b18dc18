import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OtpToken } from './otp-token.entity';
import { AuditModule } from '../audit/audit.module';
import { MailModule } from '../mail/mail.module';
import { StoreModule } from '../store/store.module';
import { CodeGenerator } from './code-generator';
import { OtpController } from './otp.controller';
import { OtpService } from './otp.service';
import { OtpTokensRepository } from './otp-tokens.repository';

@Module({
  imports: [TypeOrmModule.forFeature([OtpToken]), StoreModule, MailModule, AuditModule],
  controllers: [OtpController],
  providers: [OtpService, OtpTokensRepository, CodeGenerator],
  exports: [OtpService],
})
export class OtpModule {}
