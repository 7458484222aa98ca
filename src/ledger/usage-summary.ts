// Usage summed per member or group and per hour or day (UTC), in SQL: charts and finance read totals
// without fetching the entries. Bounded: a summary larger than MAX_SUMMARY_ROWS is refused, not cut.
import { CreditsError } from '../errors.js';
import { canonical } from '../decimal.js';
import type { HistoryFilter } from './history-filter.js';
import type { Queryable } from '../state/store.js';

export const MAX_SUMMARY_ROWS = 10_000;

export type SummaryBy = 'member' | 'group';
export type SummaryBucket = 'hour' | 'day';

export interface SummaryRow {
  /** The member's e-mail or the group's key. */
  key: string;
  /** Start of the hour or day, ISO 8601 UTC. */
  bucket: string;
  credits: string;
  /** Sum of the known costs; null when no entry in the bucket had one. */
  costUsd: string | null;
  entries: number;
}

// Whitelisted SQL fragments: the grouping column is never built from input.
const COLUMN: Record<SummaryBy, string> = { member: 'member_email', group: 'group_key' };

export async function usageSummary(
  db: Queryable,
  accountId: string,
  filter: HistoryFilter,
  by: SummaryBy,
  bucket: SummaryBucket,
): Promise<{ by: SummaryBy; bucket: SummaryBucket; items: SummaryRow[] }> {
  const column = COLUMN[by];
  const { rows } = await db.query<{
    key: string;
    bucket: string;
    credits: string;
    cost_usd: string | null;
    entries: string;
  }>(
    `SELECT ${column} AS key,
            to_char(date_trunc($2, created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS bucket,
            sum(credits) AS credits, sum(cost_usd) AS cost_usd, count(*) AS entries
       FROM ledger_entries
      WHERE account_id = $1 AND kind = 'usage'
        AND ($3::text IS NULL OR member_email = $3) AND ($4::text IS NULL OR group_key = $4)
        AND created_at >= coalesce($5::timestamptz, '-infinity') AND created_at < coalesce($6::timestamptz, 'infinity')
      GROUP BY 1, 2 ORDER BY 2, 1 LIMIT $7`,
    [accountId, bucket, filter.member, filter.group, filter.from, filter.to, MAX_SUMMARY_ROWS + 1],
  );
  if (rows.length > MAX_SUMMARY_ROWS)
    throw new CreditsError('SUMMARY_TOO_LARGE', { limit: MAX_SUMMARY_ROWS });
  return {
    by,
    bucket,
    items: rows.map((r) => ({
      key: r.key,
      bucket: r.bucket,
      credits: canonical(r.credits),
      costUsd: r.cost_usd === null ? null : canonical(r.cost_usd),
      entries: Number(r.entries),
    })),
  };
}
