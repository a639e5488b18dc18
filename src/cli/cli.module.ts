import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { DatabaseModule } from '../database/database.module';
import { MetricsModule } from '../metrics/metrics.module';
import { AuditVerifyCommand } from './audit-verify.command';
import { ServiceTokenCommands } from './service-token.command';

/** The operator commands, wired from the same modules as the server; no scheduler, no HTTP. */
@Module({
  imports: [DatabaseModule, MetricsModule, AuditModule, AuthModule],
  providers: [AuditVerifyCommand, ServiceTokenCommands],
})
export class CliModule {}
