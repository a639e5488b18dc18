import { EntityManager } from 'typeorm';
import { AuditEventType } from '../../src/audit/audit-event.entity';
import { AuditRecord, AuditService } from '../../src/audit/audit.service';

/**
 * The real audit trail, except that recording the given event type can be made to fail once:
 * `record` rejects before writing; a write handed to a caller's statement or transaction is one
 * the database refuses (an event without a type), so what was written with it is rolled back.
 */
export class FailableAudit extends AuditService {
  failNext: AuditEventType | null = null;

  override record(records: AuditRecord[], manager?: EntityManager) {
    if (!this.failing(records)) return super.record(records, manager);
    return Promise.reject(new Error('the database went away'));
  }

  override insertWrite(records: AuditRecord[], manager: EntityManager) {
    const write = super.insertWrite(records, manager);
    return this.failing(records) ? write.values({ type: null as unknown as AuditEventType }) : write;
  }

  private failing(records: AuditRecord[]): boolean {
    if (!records.some((record) => record.type === this.failNext)) return false;
    this.failNext = null;
    return true;
  }
}
