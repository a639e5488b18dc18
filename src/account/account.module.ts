import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { MailModule } from '../mail/mail.module';
import { OtpModule } from '../otp/otp.module';
import { UsersModule } from '../users/users.module';
import { AccountAdminController } from './account-admin.controller';
import { AccountController } from './account.controller';
import { AccountRepository } from './account.repository';
import { AccountService } from './account.service';

@Module({
  imports: [UsersModule, AuthModule, OtpModule, AuditModule, MailModule],
  controllers: [AccountController, AccountAdminController],
  providers: [AccountService, AccountRepository],
  exports: [AccountService],
})
export class AccountModule {}
