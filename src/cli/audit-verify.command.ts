import { Injectable } from '@nestjs/common';
import { AuditChainService } from '../audit/audit-chain.service';

/** `audit verify`: walks the chain in the configured database; exit 1 names the first broken link. */
@Injectable()
export class AuditVerifyCommand {
  constructor(private readonly chain: AuditChainService) {}

  async run(): Promise<{ ok: boolean; message: string }> {
    const report = await this.chain.verify();
    if (!report.ok)
      return {
        ok: false,
        message: `audit chain BROKEN: ${report.problem} (${report.checked} events verified before it)`,
      };
    const range = report.checked > 0 ? ` (chain index ${report.firstIndex} to ${report.lastIndex})` : '';
    return { ok: true, message: `audit chain intact: ${report.checked} events verified${range}` };
  }
}
