import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { DatabaseModule } from '../database/database.module';
import { MetricsModule } from '../metrics/metrics.module';
import { OidcModule } from '../oidc/oidc.module';
import { AuditVerifyCommand } from './audit-verify.command';
import { ClientCommands } from './client.command';
import { ServiceTokenCommands } from './service-token.command';
import { WebhookCommands } from './webhook.command';
import { WebhooksModule } from '../webhooks/webhooks.module';

/** The operator commands, wired from the same modules as the server; no scheduler, no HTTP. */
@Module({
  imports: [DatabaseModule, MetricsModule, AuditModule, AuthModule, OidcModule, WebhooksModule],
  providers: [AuditVerifyCommand, ServiceTokenCommands, ClientCommands, WebhookCommands],
})
export class CliModule {}
