// Reads what `credits plan --replay` replays: the previous complete cycle's usage, summed per member and hour
// in SQL (a cycle of a million events becomes at most members × hours rows), its grants, and its counters.
import type { Queryable } from '../state/store.js';
import type { ReplayUsage } from '../plan/replay.js';
import { canonical } from '../decimal.js';

/** The previous complete cycle of the account and its usage; undefined when no cycle has ended yet. */
export async function readReplayUsage(db: Queryable, accountId: string): Promise<ReplayUsage | undefined> {
  const cycles = await db.query<{ cycle_no: string; starts_at: Date; ends_at: Date }>(
    `SELECT cycle_no, starts_at, ends_at FROM cycles WHERE account_id = $1 ORDER BY cycle_no DESC LIMIT 2`,
    [accountId],
  );
  const previous = cycles.rows[1];
  if (!previous) return undefined;
  const cycleNo = Number(previous.cycle_no);
  // Signup credits pay for what allowances did not; budgets do not bound them, so they are left out. So are
  // rolled-over credits, the member's and the pool's alike: that cycle's carries paid them (and its group's
  // capacity counted them), not the budgets a proposal changes.
  const usage = await db.query<{ e: string; h: string; c: string }>(
    `SELECT member_email AS e, extract(epoch FROM date_trunc('hour', created_at))::bigint AS h,
            sum(credits - coalesce((charges ->> ('signup:' || member_email))::numeric, 0)
                        - coalesce((charges ->> ('carry:' || member_email))::numeric, 0)
                        - coalesce((charges ->> ('carry-pool:' || group_key))::numeric, 0)) AS c
       FROM ledger_entries
      WHERE account_id = $1 AND cycle_no = $2 AND kind = 'usage'
      GROUP BY member_email, h
      ORDER BY h, member_email`,
    [accountId, cycleNo],
  );
  const grants = await db.query<{ e: string; c: string }>(
    `SELECT member_email AS e, sum(credits) AS c FROM ledger_entries
      WHERE account_id = $1 AND cycle_no = $2 AND kind = 'grant' GROUP BY member_email`,
    [accountId, cycleNo],
  );
  const counters = await db.query<{ scope: string; capacity: string; used: string }>(
    `SELECT scope, sum(capacity) AS capacity, sum(used) AS used FROM budget_counters
      WHERE account_id = $1 AND cycle_no = $2 AND scope !~ '^(signup|auto):' GROUP BY scope`,
    [accountId, cycleNo],
  );
  return {
    cycle: { cycleNo, startsAt: new Date(previous.starts_at), endsAt: new Date(previous.ends_at) },
    hours: usage.rows.map((r) => [r.e, Number(r.h), r.c]),
    grants: new Map(grants.rows.map((r) => [r.e, r.c])),
    counters: new Map(
      counters.rows.map((r) => [r.scope, { capacity: canonical(r.capacity), used: canonical(r.used) }]),
    ),
  };
}
