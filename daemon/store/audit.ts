/** The audit log: who (admin or runner:<id>) did what to which target, and when. */
import type { Queryable } from "../../lib/db/types.ts";

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string | null;
  details?: Record<string, unknown>;
  remoteAddr?: string | null;
}

export async function recordAudit(q: Queryable, e: AuditEntry): Promise<void> {
  await q.query(
    "INSERT INTO audit_log (actor, action, target, details, remote_addr) VALUES ($1, $2, $3, $4::jsonb, $5)",
    [e.actor, e.action, e.target ?? null, e.details ?? {}, e.remoteAddr ?? null],
  );
}
