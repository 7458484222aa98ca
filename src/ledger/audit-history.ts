// The audit log as a list: who changed what, when and from where (an apply and its commit, an API edit and
// its token), oldest first by keyset on the audit id. Filters: a member or group (its object and its
// fields, matched exactly, never by prefix: an e-mail may contain dots), an actor, a source, a time range.
import { decodeCursor, encodeCursor, type Page, type PageQuery } from './page.js';
import { HISTORY_BATCH, historyLimit, ID_CURSOR, type HistoryFilter } from './history-filter.js';
import { GROUP_FIELDS, MEMBER_FIELDS } from '../plan/address.js';
import type { Queryable } from '../state/store.js';

export interface AuditEntry {
  id: string;
  /** The account's state serial the change produced. */
  serial: string;
  actor: string;
  /** 'apply', 'api', …: what made the change. */
  source: string;
  commitSha: string | null;
  address: string;
  action: string;
  before: unknown;
  after: unknown;
  at: string;
}

export interface AuditFilter extends HistoryFilter {
  actor?: string | null;
  source?: string | null;
}

interface Row {
  audit_id: string;
  state_serial: string;
  actor: string;
  source: string;
  commit_sha: string | null;
  address: string;
  action: string;
  before_value: unknown;
  after_value: unknown;
  created_at: Date;
}

const toEntry = (r: Row): AuditEntry => ({
  id: r.audit_id,
  serial: r.state_serial,
  actor: r.actor,
  source: r.source,
  commitSha: r.commit_sha,
  address: r.address,
  action: r.action,
  before: r.before_value,
  after: r.after_value,
  at: r.created_at.toISOString(),
});

/** The addresses naming an object or one of its fields. */
const addresses = (prefix: string, name: string | null, fields: readonly string[]): string[] | null =>
  name === null ? null : [`${prefix}.${name}`, ...fields.map((f) => `${prefix}.${name}.${f}`)];

async function auditRows(
  db: Queryable,
  accountId: string,
  f: AuditFilter,
  after: string | null,
  limit: number,
): Promise<Row[]> {
  // The keyset bound and the range are plain comparisons (never "$n IS NULL OR …"), so a batch deep into
  // a long history is an index range scan on the primary key, not a scan and sort of everything before it.
  const { rows } = await db.query<Row>(
    `SELECT audit_id, state_serial, actor, source, commit_sha, address, action, before_value, after_value,
            created_at
       FROM audit_log
      WHERE account_id = $1
        AND ($2::text[] IS NULL OR address = ANY ($2::text[])) AND ($3::text[] IS NULL OR address = ANY ($3::text[]))
        AND created_at >= coalesce($4::timestamptz, '-infinity') AND created_at < coalesce($5::timestamptz, 'infinity')
        AND ($6::text IS NULL OR actor = $6) AND ($7::text IS NULL OR source = $7)
        AND audit_id > $8
      ORDER BY audit_id LIMIT $9`,
    [
      accountId,
      addresses('member', f.member, MEMBER_FIELDS),
      addresses('group', f.group, GROUP_FIELDS),
      f.from,
      f.to,
      f.actor ?? null,
      f.source ?? null,
      after ?? '0',
      limit,
    ],
  );
  return rows;
}

export async function listAudit(
  db: Queryable,
  accountId: string,
  filter: AuditFilter,
  page: PageQuery = {},
): Promise<Page<AuditEntry>> {
  const limit = historyLimit(page.limit);
  const [after] = page.cursor ? decodeCursor(page.cursor, ID_CURSOR) : [null];
  const rows = await auditRows(db, accountId, filter, after ?? null, limit + 1);
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return {
    items: kept.map(toEntry),
    nextCursor: rows.length > limit && last ? encodeCursor([last.audit_id]) : null,
  };
}

/** Every matching audit row, in batches of at most `batchSize` (see usageBatches). */
export function auditBatches(
  db: Queryable,
  accountId: string,
  filter: AuditFilter,
  opts: { cursor?: string; batchSize?: number } = {},
): AsyncGenerator<AuditEntry[]> {
  const [start] = opts.cursor ? decodeCursor(opts.cursor, ID_CURSOR) : [null];
  const size = Math.max(1, Math.trunc(opts.batchSize ?? HISTORY_BATCH));
  return (async function* () {
    let after = start ?? null;
    for (;;) {
      const rows = await auditRows(db, accountId, filter, after, size);
      if (rows.length) yield rows.map(toEntry);
      if (rows.length < size) return;
      after = rows[rows.length - 1]!.audit_id;
    }
  })();
}
