// What each budget scope may spend in a cycle, derived from the declared state and this cycle's grants.
//   account          = creditLimit
//   group:<key>      = allocation + extra
//   pool:<key>       = allocation + extra − Σ members' (allocation + extra)   (grants are charged to it)
//   auto:<key>       = autoApprove                                          (the auto-approve reserve)
//   member:<email>   = allocation + extra + Σ approved grants this cycle
//   signup:<email>   = signup credits granted once (cycle 0: they never expire)
import { dec, canonical } from '../decimal.js';
import { ensureScope, setCapacity } from './budget-counters.js';
import type { Queryable } from '../state/store.js';

export async function accountCapacities(db: Queryable, accountId: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const acct = await db.query<{ credit_limit: string }>(
    'SELECT credit_limit FROM accounts WHERE account_id = $1',
    [accountId],
  );
  if (!acct.rows[0]) return out;
  out.set('account', canonical(acct.rows[0].credit_limit));
  const groups = await db.query<{
    group_key: string;
    budget: string;
    auto_approve: string;
    distributed: string;
  }>(
    `SELECT g.group_key, g.allocation + g.extra AS budget, g.auto_approve,
            coalesce((SELECT sum(coalesce(m.allocation, 0) + m.extra) FROM members m
                       WHERE m.account_id = g.account_id AND m.group_key = g.group_key), 0) AS distributed
       FROM groups g WHERE g.account_id = $1`,
    [accountId],
  );
  for (const g of groups.rows) {
    out.set(`group:${g.group_key}`, canonical(g.budget));
    out.set(`pool:${g.group_key}`, canonical(dec(g.budget).minus(g.distributed).clampedTo(0, Infinity)));
    out.set(`auto:${g.group_key}`, canonical(g.auto_approve));
  }
  return out;
}

export async function memberCapacity(
  db: Queryable,
  accountId: string,
  cycleNo: number,
  email: string,
): Promise<string> {
  const { rows } = await db.query<{ capacity: string | null }>(
    'SELECT credits_member_capacity($1, $3, $2) AS capacity',
    [accountId, email, cycleNo],
  );
  return canonical(rows[0]?.capacity ?? '0');
}

/** Creates the cycle's account, group, pool and auto-approve counters on first use. */
export async function ensureCycleCounters(db: Queryable, accountId: string, cycleNo: number): Promise<void> {
  const exists = await db.query(
    "SELECT 1 FROM budget_counters WHERE account_id = $1 AND cycle_no = $2 AND scope = 'account' LIMIT 1",
    [accountId, cycleNo],
  );
  if (exists.rowCount > 0) return;
  for (const [scope, capacity] of await accountCapacities(db, accountId)) {
    await ensureScope(db, accountId, cycleNo, scope, capacity);
  }
}

export async function ensureMemberCounter(
  db: Queryable,
  accountId: string,
  cycleNo: number,
  email: string,
): Promise<void> {
  const exists = await db.query(
    'SELECT 1 FROM budget_counters WHERE account_id = $1 AND cycle_no = $2 AND scope = $3 LIMIT 1',
    [accountId, cycleNo, `member:${email}`],
  );
  if (exists.rowCount > 0) return;
  await ensureScope(
    db,
    accountId,
    cycleNo,
    `member:${email}`,
    await memberCapacity(db, accountId, cycleNo, email),
  );
}

/** After declared state changed (apply, admin edit): every existing counter of the cycle gets its new capacity. */
export async function syncCapacities(db: Queryable, accountId: string, cycleNo: number): Promise<void> {
  const capacities = await accountCapacities(db, accountId);
  const { rows } = await db.query<{ scope: string }>(
    `SELECT DISTINCT scope FROM budget_counters
      WHERE account_id = $1 AND cycle_no = $2 AND scope NOT LIKE 'signup:%' ORDER BY scope`,
    [accountId, cycleNo],
  );
  const existing = new Set(rows.map((r) => r.scope));
  if (!existing.size) return; // counters are created on first use with current capacities
  for (const [scope, capacity] of capacities) await setCapacity(db, accountId, cycleNo, scope, capacity);
  for (const scope of existing) {
    if (!scope.startsWith('member:')) {
      if (!capacities.has(scope)) await setCapacity(db, accountId, cycleNo, scope, '0'); // deleted group
      continue;
    }
    const email = scope.slice('member:'.length);
    await setCapacity(db, accountId, cycleNo, scope, await memberCapacity(db, accountId, cycleNo, email));
  }
}
