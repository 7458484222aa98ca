// Budget counters: per cycle and scope, how much is spent against what capacity. Charges are conditional
// UPDATEs (used + x <= capacity), so concurrent writers can never overspend. Hot scopes (account, group,
// pool) are split into slices whose capacities sum to the budget; writers pick a slice at random, and only
// when their slice is short do they lock the scope's slices (in slice order) and spread the free capacity.
import { dec, canonical } from '../decimal.js';
import type { Queryable } from '../state/store.js';

export const SLICES = 8;

export type Scope = string; // 'account' | `group:${key}` | `pool:${key}` | `member:${email}` | `signup:${email}` | `auto:${key}`

export const isSliced = (scope: Scope): boolean =>
  scope === 'account' || scope.startsWith('group:') || scope.startsWith('pool:');

interface SliceRow {
  slice: number;
  capacity: string;
  used: string;
}

/** Creates a scope's counter rows with a capacity (no-op when they exist). */
export async function ensureScope(
  tx: Queryable,
  accountId: string,
  cycleNo: number,
  scope: Scope,
  capacity: string,
): Promise<void> {
  const shares = split(capacity, isSliced(scope) ? SLICES : 1);
  await tx.query(
    `INSERT INTO budget_counters (account_id, cycle_no, scope, slice, capacity)
     SELECT $1, $2, $3, s.i - 1, s.cap FROM unnest($4::numeric[]) WITH ORDINALITY AS s(cap, i)
     ON CONFLICT DO NOTHING`,
    [accountId, cycleNo, scope, shares],
  );
}

/** Splits an amount into n exact shares (6 decimal places; the remainder goes to the first share). */
function split(amount: string, n: number): string[] {
  const total = dec(amount);
  if (n === 1) return [canonical(total)];
  const share = total.dividedBy(n).toDecimalPlaces(6, 1);
  const first = total.minus(share.times(n - 1));
  return [canonical(first), ...Array.from({ length: n - 1 }, () => canonical(share))];
}

/**
 * Charges up to `want` to a scope; returns what was charged. With `all`, either all of `want` or nothing.
 * A negative `want` is a refund and always succeeds.
 */
export async function charge(
  tx: Queryable,
  accountId: string,
  cycleNo: number,
  scope: Scope,
  want: string,
  all: boolean,
): Promise<string> {
  if (dec(want).isZero()) return '0';
  if (dec(want).isNegative()) {
    // Refunds land on any slice: every slice's used stays ≥ 0 because the slice that is refunded the most is
    // chosen (a hold is refunded once, and Σ used ≥ the refund).
    await tx.query(
      `UPDATE budget_counters SET used = used + $4
        WHERE (account_id, cycle_no, scope, slice) = (
          SELECT account_id, cycle_no, scope, slice FROM budget_counters
           WHERE account_id = $1 AND cycle_no = $2 AND scope = $3 ORDER BY used DESC LIMIT 1)`,
      [accountId, cycleNo, scope, want],
    );
    return want;
  }
  const slices = isSliced(scope) ? SLICES : 1;
  const slice = slices === 1 ? 0 : Math.floor(Math.random() * slices);
  const fast = await tx.query(
    `UPDATE budget_counters SET used = used + $5
      WHERE account_id = $1 AND cycle_no = $2 AND scope = $3 AND slice = $4 AND used + $5 <= capacity
      RETURNING slice`,
    [accountId, cycleNo, scope, slice, want],
  );
  if (fast.rowCount === 1) return want;
  return rebalanceAndCharge(tx, accountId, cycleNo, scope, slice, want, all);
}

async function rebalanceAndCharge(
  tx: Queryable,
  accountId: string,
  cycleNo: number,
  scope: Scope,
  slice: number,
  want: string,
  all: boolean,
): Promise<string> {
  // Lock every slice of the scope in slice order (the same order for everyone: no deadlock between slices).
  const { rows } = await tx.query<SliceRow>(
    `SELECT slice, capacity, used FROM budget_counters
      WHERE account_id = $1 AND cycle_no = $2 AND scope = $3 ORDER BY slice FOR UPDATE`,
    [accountId, cycleNo, scope],
  );
  if (!rows.length) return '0';
  const free = rows.reduce((s, r) => s.plus(dec(r.capacity).minus(r.used).clampedTo(0, Infinity)), dec(0));
  const take = dec(want).lessThanOrEqualTo(free) ? dec(want) : all ? dec(0) : free;
  if (take.isZero()) return '0';
  // Spread the remaining free capacity evenly; the charging slice also gets what it takes now.
  const target = rows.find((r) => r.slice === slice) ?? rows[0]!;
  const shares = split(canonical(free.minus(take)), rows.length);
  const capacities = rows.map((r, i) => {
    const base = dec(r.used).plus(shares[i]!);
    return canonical(r.slice === target.slice ? base.plus(take) : base);
  });
  const used = rows.map((r) => canonical(r.slice === target.slice ? dec(r.used).plus(take) : dec(r.used)));
  await tx.query(
    `UPDATE budget_counters c SET capacity = u.capacity, used = u.used
       FROM unnest($4::int[], $5::numeric[], $6::numeric[]) AS u(slice, capacity, used)
      WHERE c.account_id = $1 AND c.cycle_no = $2 AND c.scope = $3 AND c.slice = u.slice`,
    [accountId, cycleNo, scope, rows.map((r) => r.slice), capacities, used],
  );
  return canonical(take);
}

/**
 * Sets a scope's total capacity (after apply, an admin edit, or a grant), keeping each slice's used and
 * spreading the free capacity evenly. A capacity below what is used leaves no free capacity: blocked.
 */
export async function setCapacity(
  tx: Queryable,
  accountId: string,
  cycleNo: number,
  scope: Scope,
  capacity: string,
): Promise<void> {
  const { rows } = await tx.query<SliceRow>(
    `SELECT slice, capacity, used FROM budget_counters
      WHERE account_id = $1 AND cycle_no = $2 AND scope = $3 ORDER BY slice FOR UPDATE`,
    [accountId, cycleNo, scope],
  );
  if (!rows.length) return ensureScope(tx, accountId, cycleNo, scope, capacity);
  const used = rows.reduce((s, r) => s.plus(r.used), dec(0));
  const free = dec(capacity).minus(used).clampedTo(0, Infinity);
  const shares = split(canonical(free), rows.length);
  await tx.query(
    `UPDATE budget_counters c SET capacity = c.used + u.free
       FROM unnest($4::int[], $5::numeric[]) AS u(slice, free)
      WHERE c.account_id = $1 AND c.cycle_no = $2 AND c.scope = $3 AND c.slice = u.slice`,
    [accountId, cycleNo, scope, rows.map((r) => r.slice), shares],
  );
}

/** Free capacity of scopes (capacity − used, never below 0), for balances and 402 responses. */
export async function freeOf(
  db: Queryable,
  accountId: string,
  cycleNo: number,
  scopes: Scope[],
): Promise<Map<Scope, { capacity: string; used: string; free: string }>> {
  const { rows } = await db.query<{ scope: string; capacity: string; used: string }>(
    `SELECT scope, sum(capacity) AS capacity, sum(used) AS used FROM budget_counters
      WHERE account_id = $1 AND cycle_no = $2 AND scope = ANY($3::text[]) GROUP BY scope`,
    [accountId, cycleNo, scopes],
  );
  return new Map(
    rows.map((r) => [
      r.scope,
      {
        capacity: canonical(r.capacity),
        used: canonical(r.used),
        free: canonical(dec(r.capacity).minus(r.used).clampedTo(0, Infinity)),
      },
    ]),
  );
}
