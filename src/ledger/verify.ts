// `credits verify`: every budget counter's used equals the sum of the ledger entries charged to it.
import { dec } from '../decimal.js';
import type { Queryable } from '../state/store.js';

export interface Mismatch {
  cycleNo: number;
  scope: string;
  counter: string;
  ledger: string;
}

export async function verifyLedger(
  db: Queryable,
  accountId: string,
): Promise<{ checked: number; mismatches: Mismatch[] }> {
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
  return { checked: rows.length, mismatches };
}
