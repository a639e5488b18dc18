import type { AuditRow } from './audit.service';

/** The columns every statement that writes audit events fills, in order. */
export const AUDIT_COLUMNS = 'at, type, user_id, email, ip, user_agent, session_id, request_id, details';

/** Audit rows as one jsonb array parameter of a statement, however many there are. */
export const auditRowsFrom = (
  parameter: string,
) => `jsonb_to_recordset(${parameter}::jsonb) AS e(at timestamptz, type varchar, user_id uuid, email varchar, ip varchar,
  user_agent varchar, session_id uuid, request_id varchar, details jsonb)`;

/** The parameter `auditRowsFrom` reads. */
export function auditRowsJson(rows: AuditRow[]): string {
  return JSON.stringify(
    rows.map((row) => ({
      at: row.at,
      type: row.type,
      user_id: row.userId,
      email: row.email,
      ip: row.ip,
      user_agent: row.userAgent,
      session_id: row.sessionId,
      request_id: row.requestId,
      details: row.details,
    })),
  );
}
