import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { OidcModule } from '../oidc/oidc.module';
import { OtpModule } from '../otp/otp.module';
import { StoreModule } from '../store/store.module';
import { CleanupJob } from './cleanup.job';

/** The periodic cleanup: it asks each module to remove what has expired. */
@Module({
  imports: [StoreModule, OtpModule, AuthModule, OidcModule, AuditModule],
  providers: [CleanupJob],
  exports: [CleanupJob],
})
export class CleanupModule {}
