import { EntityManager } from 'typeorm';
import { AuditEventType } from '../../src/audit/audit-event.entity';
import { AuditRecord, AuditService } from '../../src/audit/audit.service';

/** The real audit trail, except that recording the given event type can be made to fail once. */
export class FailableAudit extends AuditService {
  failNext: AuditEventType | null = null;
  override record(records: AuditRecord[], manager?: EntityManager) {
    if (!records.some((record) => record.type === this.failNext)) return super.record(records, manager);
    this.failNext = null;
    return Promise.reject(new Error('the database went away'));
  }
}
