import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OidcPayload } from './storage/oidc-payload.entity';
import { OidcPayloadsRepository } from './storage/oidc-payloads.repository';
import { OidcStorage } from './storage/oidc-storage';

/** "Sign in with" this service: the OpenID Provider, its registered clients and its shared state. */
@Module({
  imports: [TypeOrmModule.forFeature([OidcPayload])],
  providers: [OidcPayloadsRepository, OidcStorage],
  exports: [OidcStorage],
})
export class OidcModule {}
