import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { JwksController } from './jwks.controller';
import { JwtStrategy } from './jwt.strategy';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { loadSigningKeys, SigningKeys } from './signing-keys';
import { TokensService } from './tokens.service';

@Module({
  imports: [PassportModule],
  controllers: [JwksController],
  providers: [
    { provide: SigningKeys, inject: [APP_CONFIG], useFactory: (config: AppConfig) => loadSigningKeys(config.jwt) },
    JwtStrategy,
    TokensService,
    SessionsRepository,
    SessionsService,
  ],
  exports: [TokensService, SessionsService],
})
export class AuthModule {}
