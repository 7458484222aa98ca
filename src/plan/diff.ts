// The pure diff: (desired, live) → Plan. No I/O; the clock and the cycle preview are passed in.
import { cmp, sum } from '../decimal.js';
import {
  DEFAULT_GROUP,
  type DeclaredAccount,
  type DeclaredGroup,
  type DeclaredMember,
  type DeclaredState,
} from '../declared-state.js';
import type { LiveState } from '../live-state.js';
import {
  emptySummary,
  PLAN_FORMAT_VERSION,
  type Change,
  type ChangeValue,
  type Plan,
  type PlanWarning,
} from './plan.js';
import { diffAlerts } from './diff-alerts.js';
import {
  accountAddress,
  groupAddress,
  memberAddress,
  GROUP_FIELDS as GROUP_ADDRESS_FIELDS,
  type AccountAddressField,
} from './address.js';

export interface DiffContext {
  configDigest: string;
  now: Date;
  /** Next cycle ends for a cadence starting now (the ledger's arithmetic, injected to keep plan/ pure). */
  previewCycles?: (cadence: string, timezone: string, from: Date) => Date[];
}

type AccountField = Exclude<keyof DeclaredAccount, 'id'>;
const ACCOUNT_FIELDS: [AccountField, AccountAddressField][] = [
  ['name', 'name'],
  ['creditLimit', 'creditLimit'],
  ['cadence', 'cycle.cadence'],
  ['timezone', 'cycle.timezone'],
  ['creditFactor', 'creditFactor'],
  ['signupCredits', 'signupCredits'],
  ['managedBy', 'managedBy'],
];
type GroupField = Exclude<keyof DeclaredGroup, 'key'>;
// Group fields in the order a plan lists their changes; address.ts holds the one list.
const GROUP_FIELDS: readonly GroupField[] = GROUP_ADDRESS_FIELDS;
const AMOUNT_FIELDS = new Set<string>([
  'creditLimit',
  'creditFactor',
  'signupCredits',
  'allocation',
  'extra',
  'autoApprove',
  'rollover',
]);

/** Equality of declared values: amounts compare as numbers (`5000` = `5000.0`), the rest exactly. */
function same(field: string, a: ChangeValue | undefined, b: ChangeValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a === 'string' && typeof b === 'string' && AMOUNT_FIELDS.has(field)) return cmp(a, b) === 0;
  return false;
}

const accountObject = (a: DeclaredAccount): Record<string, string | null> => ({
  name: a.name,
  creditLimit: a.creditLimit,
  cadence: a.cadence,
  timezone: a.timezone,
  creditFactor: a.creditFactor,
  signupCredits: a.signupCredits,
  managedBy: a.managedBy,
});
const groupObject = (g: Omit<DeclaredGroup, 'key'>): Record<string, string | boolean> => ({
  name: g.name,
  allocation: g.allocation,
  extra: g.extra,
  autoApprove: g.autoApprove,
  protect: g.protect,
  // Only when declared, so plans of files without rollover read as before.
  ...(g.rollover !== undefined ? { rollover: g.rollover } : {}),
});
const memberObject = (m: Omit<DeclaredMember, 'email'>): Record<string, string | null> => ({
  group: m.group,
  allocation: m.allocation,
  extra: m.extra,
  // Only when declared, so plans of files without rollover read as before.
  ...(m.rollover !== undefined ? { rollover: m.rollover } : {}),
});

/** A change that creates what the file declares (effects, if any, are added by the caller). */
const created = (address: string, after: Change['after']): Change => ({
  address,
  action: 'create',
  before: null,
  after,
  effects: [],
});

export function diff(desired: DeclaredState, live: LiveState, ctx: DiffContext): Plan {
  const changes: Change[] = [];
  const warnings: PlanWarning[] = [];
  const acct = desired.account;

  if (!live.state) {
    changes.push(created(accountAddress(), accountObject(acct)));
    const c = changes[0]!;
    c.effects.push(`starts the first cycle now (${acct.cadence}, ${acct.timezone})${preview(ctx, acct)}`);
    for (const g of desired.groups) {
      changes.push(created(groupAddress(g.key), groupObject(g)));
    }
    for (const m of desired.members) {
      changes.push(created(memberAddress(m.email), memberObject(m)));
    }
    diffAlerts(desired.alerts, undefined, changes);
    return finish(desired, live, ctx, changes, warnings);
  }

  diffAccount(acct, live, ctx, changes);
  diffGroups(desired, live, changes);
  diffMembers(desired, live, changes);
  diffAlerts(desired.alerts, live.state!.alerts, changes);
  const drifted = changes.filter((c) => c.drift).length;
  if (drifted > 0) {
    warnings.push({
      code: 'CHANGED_OUTSIDE_FILE',
      message: `${drifted} value${drifted === 1 ? ' was' : 's were'} changed outside credits.yaml; apply sets ${drifted === 1 ? 'it' : 'them'} back (or update the file to keep ${drifted === 1 ? 'it' : 'them'})`,
    });
  }
  return finish(desired, live, ctx, changes, warnings);
}

function preview(ctx: DiffContext, a: Pick<DeclaredAccount, 'cadence' | 'timezone'>): string {
  if (!ctx.previewCycles) return '';
  const ends = ctx.previewCycles(a.cadence, a.timezone, ctx.now);
  return ends.length ? `; next boundaries ${ends.map((d) => d.toISOString()).join(', ')}` : '';
}

function diffAccount(acct: DeclaredAccount, live: LiveState, ctx: DiffContext, changes: Change[]): void {
  const current = live.state!.account;
  const applied = live.applied.account;
  for (const [field, name] of ACCOUNT_FIELDS) {
    const want = acct[field];
    const have = current[field];
    if (same(field, want, have)) continue;
    const change: Change = {
      address: accountAddress(name),
      action: 'update',
      before: have,
      after: want,
      effects: [],
    };
    if (applied && !same(field, applied[field], have)) change.drift = { applied: applied[field] };
    if (field === 'cadence' || field === 'timezone') {
      change.effects.push(
        `starts a fresh cycle now: usage this cycle is kept in history${preview(ctx, acct)}`,
      );
    }
    if (field === 'creditLimit' && cmp(want as string, live.usage.account) < 0) {
      change.effects.push(
        `new limit is below the ${live.usage.account} credits already used this cycle: the account is blocked until the cycle ends`,
      );
    }
    if (field === 'creditFactor') {
      if (cmp(want as string, '0') === 0)
        change.effects.push('tracking turns off: usage is recorded, nothing is charged or enforced');
      else if (cmp(have as string, '0') === 0)
        change.effects.push('tracking turns on: usage is charged and budgets are enforced from now');
    }
    if (field === 'signupCredits') change.effects.push('applies to users who sign up from now on');
    changes.push(change);
  }
}

function diffGroups(desired: DeclaredState, live: LiveState, changes: Change[]): void {
  const liveGroups = new Map(live.state!.groups.map((g) => [g.key, g]));
  const desiredKeys = new Set(desired.groups.map((g) => g.key));
  for (const g of desired.groups) {
    const have = liveGroups.get(g.key);
    if (!have) {
      changes.push(created(groupAddress(g.key), groupObject(g)));
      continue;
    }
    const applied = live.applied.groups.get(g.key);
    for (const field of GROUP_FIELDS) {
      // rollover is optional: absent on either side is null.
      const want = g[field] ?? null;
      const had = have[field] ?? null;
      if (same(field, want, had)) continue;
      const change: Change = {
        address: groupAddress(g.key, field),
        action: 'update',
        before: had,
        after: want,
        effects: [],
      };
      const wasApplied = applied?.[field] ?? null;
      if (applied && !same(field, wasApplied, had)) change.drift = { applied: wasApplied };
      if (field === 'rollover') {
        change.effects.push(
          want === null
            ? 'what of the pool rolled over into this cycle and is unspent expires now'
            : "the pool's unused credits, at most this, carry into the next cycle",
        );
      }
      if (field === 'allocation' || field === 'extra') {
        const budget = field === 'allocation' ? [g.allocation, have.extra] : [have.allocation, g.extra];
        const used = live.usage.groups.get(g.key) ?? '0';
        if (cmp(sum(budget), used) < 0) {
          change.effects.push(
            `group budget falls below the ${used} credits used this cycle: the group is blocked until the cycle ends`,
          );
        }
      }
      changes.push(change);
    }
  }
  for (const have of live.state!.groups) {
    if (desiredKeys.has(have.key) || have.key === DEFAULT_GROUP) continue;
    const n = live.memberCounts.get(have.key) ?? 0;
    changes.push({
      address: groupAddress(have.key),
      action: 'delete',
      before: groupObject(have),
      after: null,
      effects:
        n > 0
          ? [
              `${n} member${n === 1 ? '' : 's'} not placed elsewhere return to Default; usage and history are kept`,
            ]
          : [],
    });
  }
}

/** Whether e-mails strictly ascend in code-unit order, so that a merge can pair two lists. */
function ascending(members: readonly DeclaredMember[]): boolean {
  for (let i = 1; i < members.length; i++) if (!(members[i - 1]!.email < members[i]!.email)) return false;
  return true;
}

/** The terms of a user credits.yaml does not name: the Default group's pool, nothing of their own. */
const DEFAULT_TERMS: Omit<DeclaredMember, 'email'> = { group: DEFAULT_GROUP, allocation: null, extra: '0' };

function diffMembers(desired: DeclaredState, live: LiveState, changes: Change[]): void {
  // Pair desired and live members by e-mail: a merge of the two sorted lists when the live ones come in the
  // same order (the database's collation may differ), else a map. Changes come in desired order, then the
  // deletes in live order, either way.
  const have = live.state!.members;
  const deleted: DeclaredMember[] = [];
  if (ascending(have) && ascending(desired.members)) {
    let j = 0;
    for (const m of desired.members) {
      while (j < have.length && have[j]!.email < m.email) deleted.push(have[j++]!);
      if (j < have.length && have[j]!.email === m.email) diffMember(m, have[j++]!, live, changes);
      else diffMember(m, undefined, live, changes);
    }
    while (j < have.length) deleted.push(have[j++]!);
  } else {
    const liveMembers = new Map(have.map((m) => [m.email, m]));
    for (const m of desired.members) {
      diffMember(m, liveMembers.get(m.email), live, changes);
      liveMembers.delete(m.email);
    }
    deleted.push(...liveMembers.values());
  }
  for (const gone of deleted) {
    const change: Change = {
      address: memberAddress(gone.email),
      action: 'delete',
      before: memberObject(gone),
      after: null,
      effects: ['returns to Default with no individual allocation; usage and history are kept'],
    };
    // A user the file never named, given other terms outside it: drift. Apply's delete of a member is the
    // very return to the Default group's terms (and leaves the user undeclared), so it is written as one.
    if (live.runtimeMembers?.has(gone.email)) {
      change.drift = { applied: memberObject(DEFAULT_TERMS) };
      change.effects = [
        'signed up, not in credits.yaml: returns to the Default group with no individual allocation and no extra; usage and history are kept',
      ];
    }
    changes.push(change);
  }
}

function diffMember(
  m: DeclaredMember,
  have: DeclaredMember | undefined,
  live: LiveState,
  changes: Change[],
): void {
  if (!have) {
    changes.push(created(memberAddress(m.email), memberObject(m)));
    return;
  }
  if (
    have.group === m.group &&
    have.allocation === m.allocation &&
    have.extra === m.extra &&
    have.rollover === m.rollover
  )
    return;
  const applied = live.applied.members.get(m.email);
  if (have.group !== m.group) {
    const change: Change = {
      address: memberAddress(m.email, 'group'),
      action: 'move',
      before: have.group,
      after: m.group,
      effects: [],
    };
    if (applied && applied.group !== have.group) change.drift = { applied: applied.group };
    changes.push(change);
  }
  for (const field of ['allocation', 'extra'] as const) {
    if (same(field, m[field], have[field])) continue;
    const change: Change = {
      address: memberAddress(m.email, field),
      action: 'update',
      before: have[field],
      after: m[field],
      effects: [],
      group: m.group,
    };
    if (applied && !same(field, applied[field], have[field])) change.drift = { applied: applied[field] };
    if (field === 'allocation' && m.allocation === null)
      change.effects.push('draws from the group pool from now on');
    changes.push(change);
  }
  if (!same('rollover', m.rollover ?? null, have.rollover ?? null)) {
    const change: Change = {
      address: memberAddress(m.email, 'rollover'),
      action: 'update',
      before: have.rollover ?? null,
      after: m.rollover ?? null,
      effects: [],
      group: m.group,
    };
    if (applied && !same('rollover', applied.rollover ?? null, have.rollover ?? null))
      change.drift = { applied: applied.rollover ?? null };
    // Applies from the next cycle boundary; removing it expires what rolled over into this cycle.
    if (m.rollover === undefined)
      change.effects.push('what rolled over into this cycle and is unspent expires now');
    else change.effects.push('unused allocation, at most this, carries into the next cycle');
    changes.push(change);
  }
}

function finish(
  desired: DeclaredState,
  live: LiveState,
  ctx: DiffContext,
  changes: Change[],
  warnings: PlanWarning[],
): Plan {
  const summary = emptySummary();
  for (const c of changes) summary[c.action]++;
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    account: desired.account.id,
    stateSerial: live.stateSerial,
    configDigest: ctx.configDigest,
    createdAt: ctx.now.toISOString(),
    summary,
    changes,
    warnings,
  };
}
