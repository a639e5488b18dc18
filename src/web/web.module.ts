import { Module } from '@nestjs/common';
import { AccountModule } from '../account/account.module';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { OtpModule } from '../otp/otp.module';
import { UsersModule } from '../users/users.module';
import { AccountPages } from './account-pages';
import { AccountPagesController } from './account-pages.controller';
import { SignInPages } from './sign-in-pages';
import { Views } from './views';
import { WebController } from './web.controller';
import { WebCookies } from './web-cookies';
import { WebErrorFilter } from './web-error.filter';

@Module({
  imports: [OtpModule, AuthModule, UsersModule, AuditModule, AccountModule],
  controllers: [WebController, AccountPagesController],
  providers: [Views, WebCookies, SignInPages, AccountPages, WebErrorFilter],
  exports: [Views, WebCookies, SignInPages, WebErrorFilter],
})
export class WebModule {}
