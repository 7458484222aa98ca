// The spending rule, shared by usage and reservations: an amount is drawn from the member's allowance
// (allocation + extra + grants; for pool members, then the group pool), then from signup credits; the
// allowance part must also fit the group and the account. All-or-nothing inside the caller's transaction.
import { CreditsError } from '../errors.js';
import { dec, canonical, add } from '../decimal.js';
import { freeOf, inLockOrder, refundScope } from './budget-counters.js';
import { accountCapacities, ensureCycleCounters, ensureMemberCounter, memberCapacity } from './capacities.js';
import { ensureCurrentCycle, type CycleRow } from './cycle-rows.js';
import type { Queryable } from '../state/store.js';

export type Charges = Record<string, string>;

export interface SpendContext {
  accountId: string;
  email: string;
  group: string;
  pooled: boolean;
  cycle: CycleRow;
  creditFactor: string;
}

/** Loads the member and the cycle in force; throws MEMBER_NOT_FOUND for unknown members. */
export async function spendContext(
  tx: Queryable,
  accountId: string,
  email: string,
  now: Date,
): Promise<SpendContext> {
  const { rows } = await tx.query<{ group_key: string; allocation: string | null; credit_factor: string }>(
    `SELECT m.group_key, m.allocation, a.credit_factor FROM members m JOIN accounts a USING (account_id)
      WHERE m.account_id = $1 AND m.email = $2`,
    [accountId, email],
  );
  const m = rows[0];
  if (!m) throw new CreditsError('MEMBER_NOT_FOUND', { email });
  const cycle = await ensureCurrentCycle(tx, accountId, now);
  return {
    accountId,
    email,
    group: m.group_key,
    pooled: m.allocation === null,
    cycle,
    creditFactor: m.credit_factor,
  };
}

export const trackingOff = (ctx: SpendContext): boolean => dec(ctx.creditFactor).isZero();

/** Credits for a cost in dollars at the factor in force, rounded half away from zero to 6 places (as SQL's round). */
export const creditsForCost = (costUsd: string, factor: string): string =>
  canonical(dec(costUsd).times(factor).toDecimalPlaces(6, 4));

export class BudgetExceeded extends CreditsError {
  constructor(blockedBy: 'member' | 'group' | 'account', remaining: Record<string, string>) {
    super('BUDGET_EXCEEDED', { blockedBy }, { blockedBy, remaining });
  }
}

/** BUDGET_EXCEEDED raised by credits_spend / credits_record_usage in SQL, as a coded error. */
export function budgetError(err: unknown): BudgetExceeded | undefined {
  const m = /BUDGET_EXCEEDED:(member|group|account)/.exec((err as { message?: string }).message ?? '');
  return m ? new BudgetExceeded(m[1] as 'member' | 'group' | 'account', {}) : undefined;
}

/**
 * Charges `amount` for the member (the rule is SQL's credits_spend) to the counters of `cycleNo` (the cycle in
 * force unless given: a settle charges its hold's cycle); returns the charges or throws BudgetExceeded.
 */
export async function spend(
  tx: Queryable,
  ctx: SpendContext,
  amount: string,
  cycleNo: number = ctx.cycle.cycleNo,
): Promise<Charges> {
  const { accountId, email, group } = ctx;
  await ensureCycleCounters(tx, accountId, cycleNo);
  await ensureMemberCounter(tx, accountId, cycleNo, email);
  // A savepoint, so that a refusal can still read what remains in this transaction (its locks held): the 402
  // of a reservation or settle names `remaining` like usage's does.
  await tx.query('SAVEPOINT credits_spend');
  try {
    const { rows } = await tx.query<{ charges: Charges }>(
      'SELECT credits_spend($1, $2, $3, $4, $5, $6) AS charges',
      [accountId, cycleNo, email, group, ctx.pooled, amount],
    );
    await tx.query('RELEASE SAVEPOINT credits_spend');
    return rows[0]!.charges;
  } catch (err) {
    const refused = budgetError(err);
    if (!refused) throw err;
    await tx.query('ROLLBACK TO SAVEPOINT credits_spend');
    refused.details.remaining = await remainingFor(tx, ctx);
    throw refused;
  }
}

/** Gives charges back (release, expiry, settle for less), in lock order. */
export async function refund(
  tx: Queryable,
  ctx: { accountId: string; cycleNo: number },
  charges: Charges,
): Promise<void> {
  for (const scope of inLockOrder(Object.keys(charges))) {
    const cycleNo = scope.startsWith('signup:') ? 0 : ctx.cycleNo;
    await refundScope(tx, ctx.accountId, cycleNo, scope, canonical(dec(charges[scope]!)));
  }
}

/**
 * The part of a hold's charges that `amount` gives back: signup credits first, then the pool, then the
 * allowance, then the carries (spent first, so given back last): the reverse of the spending order.
 */
export function partialRefund(hold: Charges, amount: string): Charges {
  let rest = dec(amount);
  const out: Charges = {};
  let allowance = dec(0);
  for (const prefix of ['signup:', 'pool:', 'carry-pool:', 'member:', 'carry:']) {
    for (const [scope, value] of Object.entries(hold)) {
      if (!scope.startsWith(prefix) || rest.isZero()) continue;
      const take = dec(value).lessThan(rest) ? dec(value) : rest;
      if (take.isZero()) continue;
      out[scope] = canonical(take);
      rest = rest.minus(take);
      if (prefix !== 'signup:') allowance = allowance.plus(take);
    }
  }
  if (!allowance.isZero()) {
    for (const scope of Object.keys(hold)) {
      if (scope.startsWith('group:') || scope === 'account') out[scope] = canonical(allowance);
    }
  }
  return out;
}

/** Sums charge maps (a negative map subtracts). */
export function mergeCharges(...maps: Charges[]): Charges {
  const out: Charges = {};
  for (const m of maps) for (const [k, v] of Object.entries(m)) out[k] = add(out[k] ?? '0', v);
  for (const k of Object.keys(out)) if (dec(out[k]!).isZero()) delete out[k];
  return out;
}

/**
 * What the member, their group and the account can still spend this cycle. Counters are created on first
 * use, so a scope without one yet has all of its capacity free. (A refused usage event carries the same
 * amounts, read by the SQL statement that refused it: migration 012.)
 */
export async function remainingFor(
  db: Queryable,
  ctx: SpendContext,
): Promise<{ member: string; group: string; account: string; rolledOver: string }> {
  const { accountId, email, group, cycle } = ctx;
  const scopes = [`member:${email}`, `pool:${group}`, `group:${group}`, 'account'];
  // A carry exists from the cycle's first instant (or never): no counter means nothing rolled over. A pool
  // member also spends the pool's carry.
  const carries = [`carry:${email}`, ...(ctx.pooled ? [`carry-pool:${group}`] : [])];
  // One read of the cycle's counters for both.
  const free = await freeOf(db, accountId, cycle.cycleNo, [...scopes, ...carries]);
  const carry = canonical(carries.reduce((s, c) => s.plus(free.get(c)?.free ?? '0'), dec(0)));
  const signup = (await freeOf(db, accountId, 0, [`signup:${email}`])).get(`signup:${email}`)?.free ?? '0';
  const missing = scopes.filter((s) => !free.has(s));
  const capacities = missing.some((s) => !s.startsWith('member:'))
    ? await accountCapacities(db, accountId, cycle.cycleNo)
    : null;
  const f = async (scope: string): Promise<string> => {
    const counted = free.get(scope)?.free;
    if (counted !== undefined) return counted;
    if (scope.startsWith('member:')) return memberCapacity(db, accountId, cycle.cycleNo, email);
    return capacities?.get(scope) ?? '0';
  };
  const groupFree = await f(`group:${group}`);
  const accountFree = await f('account');
  // A member can spend their allowance (and the pool) up to what the group and account still allow.
  const allowance = dec(await f(`member:${email}`))
    .plus(ctx.pooled ? await f(`pool:${group}`) : '0')
    .plus(carry);
  const capped = allowance.lessThan(groupFree) ? allowance : dec(groupFree);
  const member = (capped.lessThan(accountFree) ? capped : dec(accountFree)).plus(signup);
  return { member: canonical(member), group: groupFree, account: accountFree, rolledOver: carry };
}
