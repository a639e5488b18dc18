import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Session } from './session.entity';
import { ServiceToken } from './service-token.entity';
import { AuditModule } from '../audit/audit.module';
import { OtpModule } from '../otp/otp.module';
import { StoreModule } from '../store/store.module';
import { UsersModule } from '../users/users.module';
import { AccessGuard } from './access.guard';
import { AdminSessionsController } from './admin-sessions.controller';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwksController } from './jwks.controller';
import { JwtAuthGuard } from './jwt-auth.guard';
import { JwtStrategy } from './jwt.strategy';
import { ServiceTokensRepository } from './service-tokens.repository';
import { ServiceTokensService } from './service-tokens.service';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { SignInController } from './sign-in.controller';
import { SignInRepository } from './sign-in.repository';
import { SignInService } from './sign-in.service';
import { TokensService } from './tokens.service';
import { VerifiedTokens } from './verified-tokens';

@Module({
  imports: [
    TypeOrmModule.forFeature([Session, ServiceToken]),
    PassportModule,
    StoreModule,
    UsersModule,
    AuditModule,
    OtpModule,
  ],
  controllers: [SignInController, AuthController, AdminSessionsController, JwksController],
  providers: [
    JwtStrategy,
    JwtAuthGuard,
    AccessGuard,
    TokensService,
    VerifiedTokens,
    SessionsRepository,
    SessionsService,
    ServiceTokensRepository,
    ServiceTokensService,
    AuthService,
    SignInRepository,
    SignInService,
  ],
  exports: [
    AuthService,
    SignInService,
    TokensService,
    SessionsService,
    ServiceTokensService,
    JwtAuthGuard,
    AccessGuard,
  ],
})
export class AuthModule {}
