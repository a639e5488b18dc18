import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { JwksController } from './jwks.controller';
import { JwtStrategy } from './jwt.strategy';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { TokensService } from './tokens.service';

@Module({
  imports: [PassportModule],
  controllers: [JwksController],
  providers: [
    JwtStrategy,
    TokensService,
    SessionsRepository,
    SessionsService,
  ],
  exports: [TokensService, SessionsService],
})
export class AuthModule {}
