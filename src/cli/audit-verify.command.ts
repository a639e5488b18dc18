import { Injectable } from '@nestjs/common';
import { AuditVerifier } from '../audit/audit-verifier.service';

/** `audit verify`: walks the chain in the configured database; exit 1 names the first broken link. */
@Injectable()
export class AuditVerifyCommand {
  constructor(private readonly verifier: AuditVerifier) {}

  /** Progress goes to stderr, so stdout stays the one-line verdict. */
  async run(progress: (line: string) => void): Promise<{ ok: boolean; message: string }> {
    const started = Date.now();
    const report = await this.verifier.verify((checked) =>
      progress(`${checked} events verified (${((Date.now() - started) / 1000).toFixed(1)} s)`),
    );
    if (!report.ok)
      return {
        ok: false,
        message: `audit chain BROKEN: ${report.problem} (${report.checked} events verified before it)`,
      };
    const rounds = report.rounds ? ` (rounds ${report.rounds.first} to ${report.rounds.last})` : '';
    return { ok: true, message: `audit chain intact: ${report.checked} events verified${rounds}` };
  }
}
