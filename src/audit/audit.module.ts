import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditEvent } from './audit-event.entity';
import { AuditAnchor } from './audit-anchor.entity';
import { StoreModule } from '../store/store.module';
import { AuditAdminController } from './audit-admin.controller';
import { AuditChainService } from './audit-chain.service';
import { AuditQueryService } from './audit-query.service';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

@Module({
  imports: [TypeOrmModule.forFeature([AuditEvent, AuditAnchor]), StoreModule],
  controllers: [AuditAdminController],
  providers: [AuditService, AuditRepository, AuditQueryService, AuditChainService],
  exports: [AuditService, AuditChainService, AuditQueryService],
})
export class AuditModule {}
