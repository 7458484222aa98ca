// Budget counters: per cycle and scope, how much is spent against what capacity. Charges are conditional
// UPDATEs (used + x <= capacity), so concurrent writers can never overspend. Hot scopes (account, group,
// pool) are split into slices whose capacities sum to the budget; writers pick a slice at random, and only
// when their slice is short do they lock the scope's slices (in slice order) and spread the free capacity
// (SQL function credits_charge in migration 003).
import { dec, canonical } from '../decimal.js';
import type { Queryable } from '../state/store.js';

/** Rows per scope; must match credits_slices() in migration 003. */
export const slicesOf = (scope: Scope): number =>
  scope === 'account' ? 64 : scope.startsWith('group:') || scope.startsWith('pool:') ? 16 : 1;

export type Scope = string; // 'account' | `group:${key}` | `pool:${key}` | `member:${email}` | `carry:${email}` | `carry-pool:${key}` | `signup:${email}` | `auto:${key}`

interface SliceRow {
  slice: number;
  capacity: string;
  used: string;
}

// One lock order for every transaction that touches counters: auto-approve reserve, carry, member, pool's
// carry, pool, signup, group, account (src/ledger/locks.ts, level 5). Charges and refunds follow it, so two writers never wait on
// each other's slices in opposite orders. Must match credits_lock_rank() in migration 005, which orders the
// SQL side (usage never touches the reserve).
const ORDER = ['auto:', 'carry:', 'member:', 'carry-pool:', 'pool:', 'signup:', 'group:', 'account'];
const rank = (scope: string): number => ORDER.findIndex((p) => scope.startsWith(p));
export const inLockOrder = (scopes: string[]): string[] =>
  [...scopes].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));

/** Creates a scope's counter rows with a capacity (no-op when they exist). */
export async function ensureScope(
  tx: Queryable,
  accountId: string,
  cycleNo: number,
  scope: Scope,
  capacity: string,
): Promise<void> {
  const shares = split(capacity, slicesOf(scope));
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
 * A negative `want` is a refund. The rule lives in SQL (credits_charge, migration 003) so that the hot path
 * of recording usage is a single round trip; this is its TypeScript entry point.
 */
export async function charge(
  tx: Queryable,
  accountId: string,
  cycleNo: number,
  scope: Scope,
  want: string,
  all: boolean,
): Promise<string> {
  const { rows } = await tx.query<{ took: string }>('SELECT credits_charge($1, $2, $3, $4, $5) AS took', [
    accountId,
    cycleNo,
    scope,
    want,
    all,
  ]);
  return canonical(rows[0]!.took);
}

/**
 * Sets a scope's total capacity (after apply, an admin edit, or a grant), keeping each slice's used and
 * spreading the free capacity evenly. A capacity below what is used leaves no free capacity: blocked. A
 * single-row scope (member, auto-approve reserve, signup pot) keeps exactly its budget, below its used if need
 * be. A sliced scope's slices each keep at least their used (a slice cannot know the others' deficit), so
 * there the capacity becomes the used and the excess over the budget is recorded as the scope's overhang
 * (table budget_overhangs): a refund takes as much off the capacity as it gives back, until the overhang is
 * gone (SQL credits_refund, migration 015). Either way a release or refund after a cut reopens room only
 * under the new budget. The caller holds the declared-state lock exclusively, so no refund runs meanwhile.
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
  if (slicesOf(scope) === 1 && rows.length === 1) {
    await tx.query(
      'UPDATE budget_counters SET capacity = $4 WHERE account_id = $1 AND cycle_no = $2 AND scope = $3',
      [accountId, cycleNo, scope, capacity],
    );
    return;
  }
  const used = rows.reduce((s, r) => s.plus(r.used), dec(0));
  const free = dec(capacity).minus(used).clampedTo(0, Infinity);
  const overhang = used.minus(capacity).clampedTo(0, Infinity);
  const shares = split(canonical(free), rows.length);
  // One statement: the slices' capacities, and the overhang row written (above zero) or removed.
  await tx.query(
    `WITH sliced AS (
       UPDATE budget_counters c SET capacity = c.used + u.free
         FROM unnest($4::int[], $5::numeric[]) AS u(slice, free)
        WHERE c.account_id = $1 AND c.cycle_no = $2 AND c.scope = $3 AND c.slice = u.slice
     ), gone AS (
       DELETE FROM budget_overhangs
        WHERE account_id = $1 AND cycle_no = $2 AND scope = $3 AND $6::numeric = 0
     )
     INSERT INTO budget_overhangs (account_id, cycle_no, scope, overhang)
     SELECT $1, $2, $3, $6::numeric WHERE $6::numeric > 0
     ON CONFLICT (account_id, cycle_no, scope) DO UPDATE SET overhang = EXCLUDED.overhang`,
    [accountId, cycleNo, scope, rows.map((r) => r.slice), shares, canonical(overhang)],
  );
}

/**
 * Gives `amount` (> 0) back to a scope (release, expiry, settle for less). On a sliced scope cut below its
 * used, the capacity shrinks by as much of the overhang as the amount covers (SQL credits_refund, migrations
 * 015 and 019); without an overhang this is one probe more than lowering used. The fullest slice takes the
 * refund when it covers it; a merged refund (holds expired together) is spread over the fullest slices, so
 * no slice's used goes below zero.
 */
export async function refundScope(
  tx: Queryable,
  accountId: string,
  cycleNo: number,
  scope: Scope,
  amount: string,
): Promise<void> {
  await tx.query('SELECT credits_refund($1, $2, $3, $4)', [accountId, cycleNo, scope, amount]);
}

/** Free capacity of scopes (capacity − used, never below 0), for balances. */
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
