import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OtpToken } from './otp-token.entity';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { MailModule } from '../mail/mail.module';
import { StoreModule } from '../store/store.module';
import { UsersModule } from '../users/users.module';
import { CleanupJob } from './cleanup.job';
import { CodeGenerator } from './code-generator';
import { OtpController } from './otp.controller';
import { LOGIN_RECORDS_PROVIDER } from './login-records';
import { OtpService } from './otp.service';
import { OtpTokensRepository } from './otp-tokens.repository';

@Module({
  imports: [TypeOrmModule.forFeature([OtpToken]), StoreModule, MailModule, UsersModule, AuthModule, AuditModule],
  controllers: [OtpController],
  providers: [OtpService, OtpTokensRepository, LOGIN_RECORDS_PROVIDER, CodeGenerator, CleanupJob],
  exports: [OtpService],
})
export class OtpModule {}
