// `credits plan --replay`: the previous complete cycle's usage walked hour by hour against the proposed
// budgets, to show a reviewer who would have been blocked, from when, and how much would have been refused.
// Pure: the usage comes in already summed per member and hour (src/ledger/replay-usage.ts).
import { DEFAULT_GROUP, type DeclaredState } from '../declared-state.js';
import { fromMicros, toMicros } from '../decimal.js';

/** The previous complete cycle's usage, as src/ledger/replay-usage.ts reads it. */
export interface ReplayUsage {
  cycle: { cycleNo: number; startsAt: Date; endsAt: Date };
  /** Allowance usage per member and hour, in time order: [email, hour (epoch seconds), credits]. */
  hours: [email: string, hour: number, credits: string][];
  /** Credits granted on requests during the cycle, per member. */
  grants: Map<string, string>;
  /** The cycle's counters as they ended: capacity and used per scope (slices summed). */
  counters: Map<string, { capacity: string; used: string }>;
}

export type BlockLevel = 'member' | 'group' | 'account';

export interface ReplayOutcome {
  /** `member:<email>`, `group:<key>` or `account`. */
  scope: string;
  group: string | null;
  /** Allowance usage recorded in the cycle. */
  used: string;
  /** The budget the cycle actually had (its counter's capacity), when known. */
  actualBudget: string | null;
  /** The proposed budget; for pool members, their own part (extra and grants) before the pool. */
  proposedBudget: string;
  /** Start of the hour from which usage would have been refused; null when never. */
  blockedFrom: string | null;
  blockedBy: BlockLevel | null;
  refused: string;
}

export interface Replay {
  cycle: { cycleNo: number; startsAt: string; endsAt: string };
  trackingOff: boolean;
  used: string;
  refused: string;
  /** Members who would have been refused anything, most refused first. */
  members: ReplayOutcome[];
  groups: ReplayOutcome[];
  account: ReplayOutcome;
}

interface Budget {
  cap: bigint;
  used: bigint;
  refused: bigint;
  usedBefore: bigint;
  blockedFrom: number | null;
  blockedBy: BlockLevel | null;
}

const budget = (cap: bigint): Budget => ({
  cap: cap < 0n ? 0n : cap,
  used: 0n,
  refused: 0n,
  usedBefore: 0n,
  blockedFrom: null,
  blockedBy: null,
});
const free = (b: Budget): bigint => (b.cap > b.used ? b.cap - b.used : 0n);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

function refuse(b: Budget, amount: bigint, hour: number, level: BlockLevel): void {
  b.refused += amount;
  if (b.blockedFrom === null) {
    b.blockedFrom = hour;
    b.blockedBy = level;
  }
}

/**
 * Walks the hours in order. Within an hour a member's usage is one amount: what fits is taken (member
 * allowance, then the pool for pool members, bounded by the group and the account), the rest is refused.
 * Grants made during the cycle count from its start.
 */
export function replayUsage(desired: DeclaredState, usage: ReplayUsage): Replay {
  const declared = new Map(desired.members.map((m) => [m.email, m]));
  const pools = new Map<string, Budget>();
  const groupBudgets = new Map<string, Budget>();
  for (const g of desired.groups) {
    const total = toMicros(g.allocation) + toMicros(g.extra);
    let given = 0n;
    for (const m of desired.members)
      if (m.group === g.key) given += toMicros(m.allocation ?? '0') + toMicros(m.extra);
    groupBudgets.set(g.key, budget(total));
    pools.set(g.key, budget(total - given));
  }
  const account = budget(toMicros(desired.account.creditLimit));
  const trackingOff = toMicros(desired.account.creditFactor) === 0n;
  const members = new Map<string, Budget & { group: string; pooled: boolean }>();

  const memberBudget = (email: string) => {
    let b = members.get(email);
    if (b) return b;
    const m = declared.get(email);
    // Members the file does not name are on the Default group's terms (pool members), as after an apply.
    const group = m?.group ?? DEFAULT_GROUP;
    const own = toMicros(m?.allocation ?? '0') + toMicros(m?.extra ?? '0');
    b = { ...budget(own + toMicros(usage.grants.get(email) ?? '0')), group, pooled: m?.allocation == null };
    members.set(email, b);
    return b;
  };

  let total = 0n;
  for (const [email, hour, credits] of usage.hours) {
    const want = toMicros(credits);
    if (want <= 0n) continue;
    total += want;
    const member = memberBudget(email);
    const group = groupBudgets.get(member.group) ?? budget(0n);
    if (trackingOff) {
      member.used += want;
      group.used += want;
      account.used += want;
      continue;
    }
    const pool = pools.get(member.group) ?? budget(0n);
    const fromMember = min(want, free(member));
    const fromPool = member.pooled ? min(want - fromMember, free(pool)) : 0n;
    let take = fromMember + fromPool;
    let level: BlockLevel | null = take < want ? 'member' : null;
    if (take > free(group)) {
      take = free(group);
      level ??= 'group';
    }
    if (take > free(account)) {
      take = free(account);
      level ??= 'account';
    }
    // What the group or account cut is given back to the pool first, then to the member's own allowance.
    const poolTaken = min(fromPool, take);
    member.used += take - poolTaken;
    pool.used += poolTaken;
    group.used += take;
    account.used += take;
    const refused = want - take;
    if (refused > 0n && level) {
      refuse(member, refused, hour, level);
      if (level !== 'member') refuse(group, refused, hour, level);
      if (level === 'account') refuse(account, refused, hour, level);
    }
    member.usedBefore += want;
    group.usedBefore += want;
    account.usedBefore += want;
  }

  const iso = (hour: number | null) => (hour === null ? null : new Date(hour * 1000).toISOString());
  const outcome = (scope: string, group: string | null, b: Budget): ReplayOutcome => ({
    scope,
    group,
    used: fromMicros(b.usedBefore),
    actualBudget: usage.counters.get(scope)?.capacity ?? null,
    proposedBudget: fromMicros(b.cap),
    blockedFrom: iso(b.blockedFrom),
    blockedBy: b.blockedBy,
    refused: fromMicros(b.refused),
  });
  const byRefused = (a: ReplayOutcome, b: ReplayOutcome) => {
    const d = toMicros(b.refused) - toMicros(a.refused);
    return d > 0n ? 1 : d < 0n ? -1 : a.scope < b.scope ? -1 : 1;
  };
  return {
    cycle: {
      cycleNo: usage.cycle.cycleNo,
      startsAt: usage.cycle.startsAt.toISOString(),
      endsAt: usage.cycle.endsAt.toISOString(),
    },
    trackingOff,
    used: fromMicros(total),
    refused: fromMicros([...members.values()].reduce((s, m) => s + m.refused, 0n)),
    members: [...members]
      .filter(([, b]) => b.refused > 0n)
      .map(([email, b]) => outcome(`member:${email}`, b.group, b))
      .sort(byRefused),
    groups: [...groupBudgets]
      .filter(([, b]) => b.refused > 0n)
      .map(([key, b]) => outcome(`group:${key}`, key, b))
      .sort(byRefused),
    account: outcome('account', null, account),
  };
}
