// Spend-aware plans: each budget change annotated with what is already used this cycle and what remains after
// it, and coded warnings for changes that bite the moment they apply. Pure: the live figures come in from
// src/ledger/plan-spend.ts. Advisory: a saved plan is not compared on them (usage moves all the time).
import { DEFAULT_GROUP } from '../declared-state.js';
import { fromMicros, toMicros } from '../decimal.js';
import { groupAddress, memberAddress, parseAddress, type Address } from './address.js';
import type { Change, Plan, PlanWarning, SpendNote } from './plan.js';

/** What the live database says about the members, groups and account a plan touches. */
export interface SpendFacts {
  /** Per member: current declared values, and this cycle's member counter (used, capacity). */
  members: Map<string, { allocation: string | null; extra: string; used: string; capacity: string | null }>;
  /** Per group: current allocation and extra, and this cycle's group counter used. */
  groups: Map<string, { allocation: string; extra: string; used: string }>;
  account: { creditLimit: string; used: string } | null;
  pendingRequests: Map<string, number>;
  openReservations: Map<string, number>;
  /** The next cycle boundaries under a changed cadence or time zone (ISO), when the plan changes either. */
  nextBoundaries: string[];
  /** For drifted addresses: the latest audit row not written by an apply. */
  changedBy: Map<string, { source: string; actor: string; at: string }>;
}

/** The members, groups and account fields whose live figures the plan needs. */
export function spendQuestions(plan: Plan): { members: string[]; groups: string[] } {
  const members = new Set<string>();
  const groups = new Set<string>();
  for (const c of plan.changes) {
    const a = parseAddress(c.address, c.action);
    if (a?.kind === 'member') members.add(a.email);
    if (a?.kind === 'group' && a.field) groups.add(a.key);
  }
  return { members: [...members], groups: [...groups] };
}

const note = (used: bigint, budget: bigint): SpendNote => ({
  used: fromMicros(used),
  budget: fromMicros(budget),
  remaining: fromMicros(budget - used),
});
const micros = (v: string | null | undefined): bigint => toMicros(v ?? '0');
const valueOf = (c: Change | undefined, fallback: string | null): string | null =>
  c && (typeof c.after === 'string' || c.after === null) ? c.after : fallback;
const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** The plan with spend notes on its budget changes and the coded warnings they call for (a new object). */
export function annotateSpend(plan: Plan, facts: SpendFacts): Plan {
  const warnings: PlanWarning[] = [];
  const byAddress = new Map(plan.changes.map((c) => [c.address, c]));
  const memberNotes = new Map<string, SpendNote | null>();
  const groupNotes = new Map<string, SpendNote | null>();

  const memberNote = (email: string): SpendNote | null => {
    if (memberNotes.has(email)) return memberNotes.get(email)!;
    const live = facts.members.get(email);
    let result: SpendNote | null = null;
    if (live) {
      const alloc = valueOf(byAddress.get(memberAddress(email, 'allocation')), live.allocation);
      const extra = valueOf(byAddress.get(memberAddress(email, 'extra')), live.extra) ?? '0';
      // Grants this cycle are the counter's capacity beyond the declared budget.
      const declaredNow = micros(live.allocation) + micros(live.extra);
      const grants = live.capacity === null ? 0n : micros(live.capacity) - declaredNow;
      const before = declaredNow + (grants > 0n ? grants : 0n);
      const after = micros(alloc) + micros(extra) + (grants > 0n ? grants : 0n);
      const used = micros(live.used);
      // A pool member (no allocation) also draws on the pool: their own budget alone says little.
      if (alloc !== null) {
        result = note(used, after);
        if (after < before && after <= used && used > 0n) {
          warnings.push({
            code: 'ALLOCATION_BELOW_USED',
            address: memberAddress(email),
            message: `${email} has used ${fromMicros(used)} this cycle; the new budget ${fromMicros(after)} blocks them as soon as it applies`,
          });
        }
      }
    }
    memberNotes.set(email, result);
    return result;
  };

  const groupNote = (key: string): SpendNote | null => {
    if (groupNotes.has(key)) return groupNotes.get(key)!;
    const live = facts.groups.get(key);
    let result: SpendNote | null = null;
    if (live) {
      const alloc = valueOf(byAddress.get(groupAddress(key, 'allocation')), live.allocation) ?? '0';
      const extra = valueOf(byAddress.get(groupAddress(key, 'extra')), live.extra) ?? '0';
      const before = micros(live.allocation) + micros(live.extra);
      const after = micros(alloc) + micros(extra);
      const used = micros(live.used);
      result = note(used, after);
      if (after < before && after <= used && used > 0n) {
        warnings.push({
          code: 'ALLOCATION_BELOW_USED',
          address: groupAddress(key),
          message: `group ${key} has used ${fromMicros(used)} this cycle; its new budget ${fromMicros(after)} blocks all its members as soon as it applies`,
        });
      }
    }
    groupNotes.set(key, result);
    return result;
  };

  const changes = plan.changes.map((c): Change => {
    const a: Address | { kind: 'none'; field?: undefined } = parseAddress(c.address, c.action) ?? {
      kind: 'none',
    };
    let spend: SpendNote | null = null;
    if (a.kind === 'member' && (a.field === 'allocation' || a.field === 'extra')) spend = memberNote(a.email);
    if (a.kind === 'group' && (a.field === 'allocation' || a.field === 'extra')) spend = groupNote(a.key);
    if (a.kind === 'account' && a.field === 'creditLimit' && facts.account) {
      const used = micros(facts.account.used);
      const after = micros(typeof c.after === 'string' ? c.after : facts.account.creditLimit);
      spend = note(used, after);
      if (after < micros(facts.account.creditLimit) && after <= used && used > 0n) {
        warnings.push({
          code: 'LIMIT_BELOW_USED',
          address: c.address,
          message: `the account has used ${fromMicros(used)} this cycle; the new limit ${fromMicros(after)} blocks everyone as soon as it applies`,
        });
      }
    }
    if (a.kind === 'account' && a.field === 'creditFactor' && c.after === '0' && c.before !== '0') {
      warnings.push({
        code: 'TRACKING_OFF',
        address: c.address,
        message: 'credit factor 0 turns tracking off: usage is recorded, but nothing is charged or enforced',
      });
    }
    if (a.kind === 'account' && (a.field === 'cycle.cadence' || a.field === 'cycle.timezone')) {
      if (!warnings.some((w) => w.code === 'CYCLE_RESTARTS')) {
        const next = facts.nextBoundaries.slice(0, 3);
        warnings.push({
          code: 'CYCLE_RESTARTS',
          address: c.address,
          message:
            'a cadence or time zone change starts a fresh cycle when it applies (this cycle’s usage stays in history)' +
            (next.length ? `; the next boundaries: ${next.join(', ')}` : ''),
        });
      }
    }
    const removed = a.kind === 'member' && !a.field && c.action === 'delete';
    const moved = a.kind === 'member' && a.field === 'group';
    if (removed || moved) {
      const email = (a as { email: string }).email;
      const how = removed ? 'is removed from credits.yaml' : `moves to ${String(c.after ?? DEFAULT_GROUP)}`;
      const pending = facts.pendingRequests.get(email) ?? 0;
      const held = facts.openReservations.get(email) ?? 0;
      if (pending > 0)
        warnings.push({
          code: 'MEMBER_WITH_PENDING_REQUESTS',
          address: c.address,
          message: `${email} ${how} with ${plural(pending, 'pending request')}: they are decided against the new terms`,
        });
      if (held > 0)
        warnings.push({
          code: 'MEMBER_WITH_OPEN_RESERVATIONS',
          address: c.address,
          message: `${email} ${how} with ${plural(held, 'open reservation')}: they settle against the cycle they were made in`,
        });
    }
    const by = c.drift ? changedByOf(c.address, facts) : undefined;
    const out: Change = { ...c };
    if (spend) out.spend = spend;
    if (by) out.changedBy = by;
    return out;
  });
  // Risky changes first, then the plan's own (drift).
  return { ...plan, changes, warnings: [...warnings, ...plan.warnings] };
}

/** The audit row behind a drifted value: the address itself, or for a whole member any of its fields. */
function changedByOf(address: string, facts: SpendFacts) {
  const row =
    facts.changedBy.get(address) ??
    [...facts.changedBy]
      .filter(([k]) => k.startsWith(address + '.'))
      .sort((x, y) => (x[1].at < y[1].at ? 1 : -1))[0]?.[1];
  return row ? { source: row.source, actor: row.actor, at: row.at } : { source: 'unknown' };
}
