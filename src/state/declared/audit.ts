// The audit log's one writer: a row per declared change, stamped with the state serial it produced, by apply
// (source `apply`, with the commit) and admin edits (source `api`) alike, and a row per decision on a request
// (ledger/decision-audit.ts, at the current serial).
import type { Queryable } from '../store.js';

export interface AuditStamp {
  accountId: string;
  stateSerial: number;
  actor: string;
  source: string;
  commitSha: string | null;
}

/** One change; before and after as JSON text, or null for SQL NULL. */
export interface AuditRow {
  address: string;
  action: string;
  before: string | null;
  after: string | null;
}

export async function writeAudit(tx: Queryable, stamp: AuditStamp, rows: readonly AuditRow[]): Promise<void> {
  if (!rows.length) return;
  const { accountId, actor, source, commitSha } = stamp;
  const serial = String(stamp.stateSerial);
  if (tx.copyRows) {
    await tx.copyRows(
      'audit_log',
      [
        'account_id',
        'state_serial',
        'actor',
        'source',
        'commit_sha',
        'address',
        'action',
        'before_value',
        'after_value',
      ],
      rows.map((r) => [accountId, serial, actor, source, commitSha, r.address, r.action, r.before, r.after]),
    );
    return;
  }
  // One JSON document for all rows (see upsertMembers in plan-writes.ts).
  await tx.query(
    `INSERT INTO audit_log (account_id, state_serial, actor, source, commit_sha, address, action, before_value, after_value)
     SELECT $1, $2, $3, $4, $5, u.address, u.action, u.before::jsonb, u.after::jsonb
       FROM jsonb_to_recordset($6::jsonb) AS u(address text, action text, before text, after text)`,
    [accountId, serial, actor, source, commitSha, JSON.stringify(rows)],
  );
}
