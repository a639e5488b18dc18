import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditEvent } from './audit-event.entity';
import { AuditAnchor } from './audit-anchor.entity';
import { AuditSeal } from './audit-seal.entity';
import { StoreModule } from '../store/store.module';
import { AuditAdminController } from './audit-admin.controller';
import { AuditChainService } from './audit-chain.service';
import { AuditVerifier } from './audit-verifier.service';
import { AuditQueryService } from './audit-query.service';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

@Module({
  imports: [TypeOrmModule.forFeature([AuditEvent, AuditSeal, AuditAnchor]), StoreModule],
  controllers: [AuditAdminController],
  providers: [AuditService, AuditRepository, AuditQueryService, AuditChainService, AuditVerifier],
  exports: [AuditService, AuditChainService, AuditVerifier, AuditQueryService],
})
export class AuditModule {}
