import { AuditChainService } from '../audit/audit-chain.service';
import { AuditRepository } from '../audit/audit.repository';
import { SystemClock } from '../common/clock';
import { Secrets } from '../common/secrets';
import { AppConfig } from '../config/app-config';
import { createDataSource } from '../database/data-source-options';
import { ENTITIES } from '../entities';
import { MemoryJobLock } from '../store/job-lock';

/** `audit verify`: walks the chain in the configured database; exit 1 names the first broken link. */
export async function verifyAuditChain(config: AppConfig): Promise<{ ok: boolean; message: string }> {
  const dataSource = createDataSource(config.database, ENTITIES);
  await dataSource.initialize();
  try {
    const chain = new AuditChainService(
      dataSource,
      new AuditRepository(dataSource),
      new Secrets(config.secretKey),
      new MemoryJobLock(),
      new SystemClock(),
    );
    const report = await chain.verify();
    if (!report.ok)
      return {
        ok: false,
        message: `audit chain BROKEN: ${report.problem} (${report.checked} events verified before it)`,
      };
    const range = report.checked > 0 ? ` (chain index ${report.firstIndex} to ${report.lastIndex})` : '';
    return { ok: true, message: `audit chain intact: ${report.checked} events verified${range}` };
  } finally {
    await dataSource.destroy();
  }
}
