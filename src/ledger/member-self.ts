// A member's own view (GET /v1/me): what GET /v1/members/:email shows, plus the cycle, the grants of the
// cycle and the member's latest requests — what a dashboard's member page needs, in one call.
import { canonical } from '../decimal.js';
import { memberView } from './balances.js';
import { ensureCurrentCycle } from './cycle-rows.js';
import { listRequests } from './requests.js';
import type { Queryable } from '../state/store.js';

/** Grants and requests listed at most (newest first); the totals count them all. */
export const ME_RECENT = 20;

export async function memberSelf(db: Queryable, accountId: string, email: string, now: Date) {
  const cycle = await ensureCurrentCycle(db, accountId, now);
  const member = await memberView(db, accountId, email, now);
  const grants = await db.query<{
    credits: string;
    request_id: string | null;
    created_at: Date;
    total: string;
    n: string;
  }>(
    `SELECT credits, request_id, created_at, sum(credits) OVER () AS total, count(*) OVER () AS n
       FROM ledger_entries
      WHERE account_id = $1 AND cycle_no = $2 AND member_email = $3 AND kind = 'grant'
      ORDER BY entry_id DESC LIMIT $4`,
    [accountId, cycle.cycleNo, member.email, ME_RECENT],
  );
  const requests = await listRequests(db, accountId, { member: member.email }, { limit: ME_RECENT });
  return {
    ...member,
    cycle: { number: cycle.cycleNo, start: cycle.start.toISOString(), end: cycle.end.toISOString() },
    grants: {
      total: canonical(grants.rows[0]?.total ?? '0'),
      count: Number(grants.rows[0]?.n ?? 0),
      recent: grants.rows.map((g) => ({
        credits: canonical(g.credits),
        requestId: g.request_id,
        at: g.created_at.toISOString(),
      })),
    },
    requests: { recent: requests.items, nextCursor: requests.nextCursor },
  };
}
