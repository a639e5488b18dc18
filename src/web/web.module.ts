import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { OtpModule } from '../otp/otp.module';
import { UsersModule } from '../users/users.module';
import { SignInPages } from './sign-in-pages';
import { Views } from './views';
import { WebController } from './web.controller';
import { WebCookies } from './web-cookies';
import { WebErrorFilter } from './web-error.filter';

@Module({
  imports: [OtpModule, AuthModule, UsersModule, AuditModule],
  controllers: [WebController],
  providers: [Views, WebCookies, SignInPages, WebErrorFilter],
  exports: [Views, WebCookies, SignInPages, WebErrorFilter],
})
export class WebModule {}
