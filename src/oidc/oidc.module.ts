import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { OidcClient } from './clients/oidc-client.entity';
import { OidcClientsAdminController } from './clients/oidc-clients-admin.controller';
import { OidcClientsRepository } from './clients/oidc-clients.repository';
import { OidcClientsService } from './clients/oidc-clients.service';

/** "Sign in with" this service: the OpenID Provider, its registered clients and its shared state. */
@Module({
  imports: [TypeOrmModule.forFeature([OidcClient]), AuditModule],
  controllers: [OidcClientsAdminController],
  providers: [OidcClientsService, OidcClientsRepository],
  exports: [OidcClientsService],
})
export class OidcModule {}
