// `credits verify`: every budget counter's used equals the sum of the ledger entries charged to it, and the
// counters have the shape the rules give them: every sliced scope has exactly its slices (0 … n−1), and
// every capacity of the latest cycle (and every signup pot) equals the budget it derives from.
import { dec } from '../decimal.js';
import { slicesOf } from './budget-counters.js';
import type { Queryable } from '../state/store.js';

export interface Mismatch {
  cycleNo: number;
  scope: string;
  counter: string;
  ledger: string;
}

/** A counter or cycle whose shape breaks a rule: `problem` says which and by how much. */
export interface ShapeProblem {
  cycleNo: number;
  scope: string;
  problem: string;
}

export async function verifyLedger(
  db: Queryable,
  accountId: string,
): Promise<{ checked: number; mismatches: Mismatch[]; shape: ShapeProblem[] }> {
  const { rows } = await db.query<{
    cycle_no: string;
    scope: string;
    counter: string | null;
    ledger: string | null;
  }>(
    `WITH counters AS (
       SELECT cycle_no, scope, sum(used) AS used FROM budget_counters WHERE account_id = $1 GROUP BY 1, 2),
     ledger AS (
       SELECT CASE WHEN c.key LIKE 'signup:%' THEN 0 ELSE e.cycle_no END AS cycle_no, c.key AS scope,
              sum(c.value::numeric) AS used
         FROM ledger_entries e, jsonb_each_text(e.charges) AS c(key, value)
        WHERE e.account_id = $1 GROUP BY 1, 2)
     SELECT coalesce(c.cycle_no, l.cycle_no) AS cycle_no, coalesce(c.scope, l.scope) AS scope,
            c.used AS counter, l.used AS ledger
       FROM counters c FULL JOIN ledger l ON c.cycle_no = l.cycle_no AND c.scope = l.scope`,
    [accountId],
  );
  const mismatches = rows
    .filter((r) => !dec(r.counter ?? '0').equals(r.ledger ?? '0'))
    .map((r) => ({
      cycleNo: Number(r.cycle_no),
      scope: r.scope,
      counter: r.counter ?? '0',
      ledger: r.ledger ?? '0',
    }));
  const shape = [
    ...(await sliceProblems(db, accountId)),
    ...(await capacityProblems(db, accountId)),
    ...(await cycleProblems(db, accountId)),
  ];
  return { checked: rows.length, mismatches, shape };
}

/** Every scope has exactly slicesOf(scope) rows numbered 0 … n−1, and SQL credits_slices agrees. */
async function sliceProblems(db: Queryable, accountId: string): Promise<ShapeProblem[]> {
  const { rows } = await db.query<{
    cycle_no: string;
    scope: string;
    n: string;
    lo: number;
    hi: number;
    sql: number;
  }>(
    `SELECT cycle_no, scope, count(*) AS n, min(slice) AS lo, max(slice) AS hi, credits_slices(scope) AS sql
       FROM budget_counters WHERE account_id = $1 GROUP BY 1, 2`,
    [accountId],
  );
  const out: ShapeProblem[] = [];
  for (const r of rows) {
    const want = slicesOf(r.scope);
    const n = Number(r.n);
    if (n !== want || r.lo !== 0 || r.hi !== want - 1 || r.sql !== want) {
      out.push({
        cycleNo: Number(r.cycle_no),
        scope: r.scope,
        problem: `${n} slices numbered ${r.lo}…${r.hi}, expected ${want} (SQL credits_slices says ${r.sql})`,
      });
    }
  }
  return out;
}

/**
 * Capacities follow the declared state in the latest cycle only (earlier cycles keep what they had when they
 * ended). A scope's capacity is its budget plus its overhang: the excess a cut below what it used left on a
 * sliced scope, which refunds take off (src/ledger/budget-counters.ts setCapacity; docs/ledger.md), and
 * while there is an overhang the scope has no free capacity (capacity = used). Single-row scopes have none.
 * Budgets: account = creditLimit; group = allocation + extra + the carries of its members and pool that
 * declare a rollover; pool = that minus the members' allocation + extra (never below 0); auto = autoApprove;
 * member = allocation + extra + this cycle's grants; carry and carry-pool = their `rollover` entries of the
 * cycle (while the member or group declares a rollover; else 0, below its used if need be); a scope of a
 * deleted group = 0; signup (cycle 0) = the credits of the member's signup grant.
 */
async function capacityProblems(db: Queryable, accountId: string): Promise<ShapeProblem[]> {
  const { rows } = await db.query<{
    cycle_no: string;
    scope: string;
    capacity: string;
    used: string;
    overhang: string;
    wanted: string;
  }>(
    `WITH latest AS (SELECT max(cycle_no) AS no FROM cycles WHERE account_id = $1),
     counted AS (
       SELECT c.cycle_no, c.scope, sum(c.capacity) AS capacity, sum(c.used) AS used,
              coalesce((SELECT o.overhang FROM budget_overhangs o WHERE o.account_id = $1
                           AND o.cycle_no = c.cycle_no AND o.scope = c.scope), 0) AS overhang
         FROM budget_counters c, latest
        WHERE c.account_id = $1 AND (c.cycle_no = latest.no OR c.scope LIKE 'signup:%') GROUP BY 1, 2),
     budgets AS (
       SELECT g.group_key, g.allocation + g.extra AS budget, g.auto_approve,
              coalesce((SELECT sum(b.capacity) FROM members m, latest
                          JOIN budget_counters b ON b.account_id = $1 AND b.cycle_no = latest.no AND b.slice = 0
                         WHERE m.account_id = g.account_id AND m.group_key = g.group_key
                           AND m.rollover_max IS NOT NULL AND b.scope = 'carry:' || m.email), 0)
              + coalesce((SELECT b.capacity FROM latest
                            JOIN budget_counters b ON b.account_id = $1 AND b.cycle_no = latest.no AND b.slice = 0
                           WHERE g.rollover_max IS NOT NULL AND b.scope = 'carry-pool:' || g.group_key), 0)
                AS carried,
              coalesce((SELECT sum(coalesce(m.allocation, 0) + m.extra) FROM members m
                         WHERE m.account_id = g.account_id AND m.group_key = g.group_key), 0) AS distributed
         FROM groups g WHERE g.account_id = $1)
     SELECT k.cycle_no, k.scope, k.capacity, k.used, k.overhang, (SELECT d.budget + k.overhang FROM (SELECT coalesce(CASE
              WHEN k.scope = 'account' THEN (SELECT credit_limit FROM accounts WHERE account_id = $1)
              WHEN k.scope LIKE 'group:%' THEN
                (SELECT budget + carried FROM budgets WHERE 'group:' || group_key = k.scope)
              WHEN k.scope LIKE 'pool:%' THEN
                (SELECT greatest(budget - distributed, 0) FROM budgets WHERE 'pool:' || group_key = k.scope)
              WHEN k.scope LIKE 'auto:%' THEN (SELECT auto_approve FROM budgets WHERE 'auto:' || group_key = k.scope)
              WHEN k.scope LIKE 'member:%' THEN credits_member_capacity($1, k.cycle_no, substr(k.scope, 8))
              WHEN k.scope LIKE 'carry:%' THEN
                (SELECT CASE WHEN (SELECT rollover_max FROM members WHERE account_id = $1
                                    AND email = substr(k.scope, 7)) IS NOT NULL
                             THEN sum(e.credits) ELSE 0 END
                   FROM ledger_entries e WHERE e.account_id = $1 AND e.cycle_no = k.cycle_no
                    AND e.member_email = substr(k.scope, 7) AND e.kind = 'rollover')
              WHEN k.scope LIKE 'carry-pool:%' THEN
                (SELECT CASE WHEN (SELECT rollover_max FROM groups WHERE account_id = $1
                                    AND group_key = substr(k.scope, 12)) IS NOT NULL
                             THEN sum(e.credits) ELSE 0 END
                   FROM ledger_entries e WHERE e.account_id = $1 AND e.cycle_no = k.cycle_no
                    AND e.member_email = '' AND e.kind = 'rollover' AND e.metadata ->> 'scope' = k.scope)
              WHEN k.scope LIKE 'signup:%' THEN
                (SELECT sum(e.credits) FROM ledger_entries e WHERE e.account_id = $1 AND e.kind = 'signup-grant'
                    AND e.member_email = substr(k.scope, 8))
            END, 0) AS budget) d) AS wanted
       FROM counted k`,
    [accountId],
  );
  const out: ShapeProblem[] = [];
  for (const r of rows) {
    const at = { cycleNo: Number(r.cycle_no), scope: r.scope };
    const overhang = dec(r.overhang);
    if (!dec(r.capacity).equals(r.wanted)) {
      const gives = overhang.isZero()
        ? 'its budget gives'
        : `its budget and overhang ${overhang.toFixed()} give`;
      out.push({
        ...at,
        problem: `capacity ${dec(r.capacity).toFixed()}, but ${gives} ${dec(r.wanted).toFixed()}`,
      });
    }
    if (overhang.isZero()) continue;
    if (slicesOf(r.scope) === 1)
      out.push({ ...at, problem: `overhang ${overhang.toFixed()} on a one-row scope` });
    else if (!dec(r.capacity).equals(r.used))
      out.push({
        ...at,
        problem: `overhang ${overhang.toFixed()} while ${dec(r.capacity).minus(r.used).toFixed()} is free`,
      });
  }
  return out;
}

/** Cycles are intervals that end after they start, each starting at or after the end of the one before. */
async function cycleProblems(db: Queryable, accountId: string): Promise<ShapeProblem[]> {
  const { rows } = await db.query<{
    cycle_no: string;
    starts_at: Date;
    ends_at: Date;
    prev_end: Date | null;
  }>(
    `SELECT cycle_no, starts_at, ends_at, lag(ends_at) OVER (ORDER BY cycle_no) AS prev_end
       FROM cycles WHERE account_id = $1 ORDER BY cycle_no`,
    [accountId],
  );
  const out: ShapeProblem[] = [];
  for (const r of rows) {
    const cycleNo = Number(r.cycle_no);
    if (r.ends_at <= r.starts_at) {
      out.push({
        cycleNo,
        scope: 'cycle',
        problem: `ends ${r.ends_at.toISOString()}, not after its start ${r.starts_at.toISOString()}`,
      });
    }
    if (r.prev_end && r.starts_at < r.prev_end) {
      out.push({
        cycleNo,
        scope: 'cycle',
        problem: `starts ${r.starts_at.toISOString()}, before the previous cycle ends ${r.prev_end.toISOString()}`,
      });
    }
  }
  return out;
}
