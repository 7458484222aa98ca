// Usage history: the ledger's usage entries (direct usage and settled reservations), oldest first, by
// keyset on the entry id, so paging never repeats or skips a row however many are inserted meanwhile.
// A whole history is read in bounded batches (usageBatches): an export of any size holds one batch.
import { canonical } from '../decimal.js';
import { decodeCursor, encodeCursor, type Page, type PageQuery } from './page.js';
import { HISTORY_BATCH, historyLimit, ID_CURSOR, type HistoryFilter } from './history-filter.js';
import type { Queryable } from '../state/store.js';

export interface UsageEntry {
  id: string;
  member: string;
  group: string;
  credits: string;
  costUsd: string | null;
  model: string | null;
  cycle: number;
  at: string;
  metadata?: Record<string, unknown>;
}

interface Row {
  entry_id: string;
  member_email: string;
  group_key: string;
  credits: string;
  cost_usd: string | null;
  model: string | null;
  cycle_no: string;
  metadata: Record<string, unknown> | null;
  created_at: Date;
}

const toEntry = (r: Row): UsageEntry => ({
  id: r.entry_id,
  member: r.member_email,
  group: r.group_key,
  credits: canonical(r.credits),
  costUsd: r.cost_usd === null ? null : canonical(r.cost_usd),
  model: r.model,
  cycle: Number(r.cycle_no),
  at: r.created_at.toISOString(),
  ...(r.metadata === null ? {} : { metadata: r.metadata }),
});

/** Up to `limit` usage entries after entry `after` (exclusive), in id order. */
async function usageRows(
  db: Queryable,
  accountId: string,
  f: HistoryFilter,
  after: string | null,
  limit: number,
): Promise<Row[]> {
  // The keyset bound and the range are plain comparisons (never "$n IS NULL OR …"), so a batch deep into
  // a long history is an index range scan on the primary key, not a scan and sort of everything before it.
  const { rows } = await db.query<Row>(
    `SELECT entry_id, member_email, group_key, credits, cost_usd, model, cycle_no, metadata, created_at
       FROM ledger_entries
      WHERE account_id = $1 AND kind = 'usage'
        AND ($2::text IS NULL OR member_email = $2) AND ($3::text IS NULL OR group_key = $3)
        AND created_at >= coalesce($4::timestamptz, '-infinity') AND created_at < coalesce($5::timestamptz, 'infinity')
        AND entry_id > $6
      ORDER BY entry_id LIMIT $7`,
    [accountId, f.member, f.group, f.from, f.to, after ?? '0', limit],
  );
  return rows;
}

/** One page of usage entries; `nextCursor` continues after its last entry (null on the last page). */
export async function listUsage(
  db: Queryable,
  accountId: string,
  filter: HistoryFilter,
  page: PageQuery = {},
): Promise<Page<UsageEntry>> {
  const limit = historyLimit(page.limit);
  const [after] = page.cursor ? decodeCursor(page.cursor, ID_CURSOR) : [null];
  const rows = await usageRows(db, accountId, filter, after ?? null, limit + 1);
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return {
    items: kept.map(toEntry),
    nextCursor: rows.length > limit && last ? encodeCursor([last.entry_id]) : null,
  };
}

/**
 * Every usage entry matching the filter (after `cursor`, when given), as batches of at most `batchSize`:
 * one query per batch, each continuing after the last id of the one before. The cursor is checked before
 * the first query, so a bad one fails before anything is streamed.
 */
export function usageBatches(
  db: Queryable,
  accountId: string,
  filter: HistoryFilter,
  opts: { cursor?: string; batchSize?: number } = {},
): AsyncGenerator<UsageEntry[]> {
  const [start] = opts.cursor ? decodeCursor(opts.cursor, ID_CURSOR) : [null];
  const size = Math.max(1, Math.trunc(opts.batchSize ?? HISTORY_BATCH));
  return (async function* () {
    let after = start ?? null;
    for (;;) {
      const rows = await usageRows(db, accountId, filter, after, size);
      if (rows.length) yield rows.map(toEntry);
      if (rows.length < size) return;
      after = rows[rows.length - 1]!.entry_id;
    }
  })();
}
