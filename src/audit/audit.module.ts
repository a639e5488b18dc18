import { Module } from '@nestjs/common';
import { StoreModule } from '../store/store.module';
import { AuditAdminController } from './audit-admin.controller';
import { AuditChainService } from './audit-chain.service';
import { AuditQueryService } from './audit-query.service';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

@Module({
  imports: [StoreModule],
  controllers: [AuditAdminController],
  providers: [AuditService, AuditRepository, AuditQueryService, AuditChainService],
  exports: [AuditService, AuditChainService, AuditQueryService],
})
export class AuditModule {}
