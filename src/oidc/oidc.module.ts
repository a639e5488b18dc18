import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { OidcClient } from './clients/oidc-client.entity';
import { OidcClientsAdminController } from './clients/oidc-clients-admin.controller';
import { OidcClientsRepository } from './clients/oidc-clients.repository';
import { OidcClientsService } from './clients/oidc-clients.service';
import { OidcPayload } from './storage/oidc-payload.entity';
import { OidcPayloadsRepository } from './storage/oidc-payloads.repository';
import { OidcStorage } from './storage/oidc-storage';

/** What the OpenID provider keeps: its registered clients and its protocol state, shared by every instance. */
@Module({
  imports: [TypeOrmModule.forFeature([OidcClient, OidcPayload]), AuditModule],
  controllers: [OidcClientsAdminController],
  providers: [OidcClientsService, OidcClientsRepository, OidcPayloadsRepository, OidcStorage],
  exports: [OidcClientsService, OidcStorage],
})
export class OidcModule {}
