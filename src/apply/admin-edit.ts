// Admin edits of declared fields through the API (dashboard): recorded as drift. Each edit takes the
// account's apply lock, bumps the state serial (so saved plans go stale) and writes audit rows. Accounts
// with `managedBy: git` refuse them.
import { CreditsError } from '../errors.js';
import { dec } from '../decimal.js';
import { DEFAULT_GROUP } from '../declared-state.js';
import { latestCycle, openAccountCycle } from '../ledger/cycles.js';
import { canonicalTimeZone, isValidTimeZone, parseCadence } from '../config/cadence.js';
import { DEFAULT_GROUP_NAME } from '../config/normalise.js';
import { isValidEmail } from '../config/semantic-rules.js';
import { syncCapacities } from '../ledger/capacities.js';
import { lockDeclaredState } from '../ledger/locks.js';
import { retriedTransaction } from '../ledger/retry.js';
import { canonicalNumeric } from '../state/inspect.js';
import { accountAddress, groupAddress, memberAddress, type AccountAddressField } from '../plan/address.js';
import type { Queryable, Store } from '../state/store.js';

type Value = string | boolean | null;
interface FieldEdit {
  address: string;
  table: 'accounts' | 'groups' | 'members';
  column: string;
  value: Value;
}

export const GROUP_FIELDS = {
  name: 'name',
  allocation: 'allocation',
  extra: 'extra',
  autoApprove: 'auto_approve',
} as const;
export const MEMBER_FIELDS = { allocation: 'allocation', extra: 'extra', group: 'group_key' } as const;
export const SETTINGS_FIELDS = {
  name: 'name',
  creditLimit: 'credit_limit',
  creditFactor: 'credit_factor',
  signupCredits: 'signup_credits',
  cadence: 'cadence',
  timezone: 'timezone',
} as const;
// The plan's addresses (address.ts) of the settings fields, so audit rows and drift name them alike.
const SETTINGS_ADDRESS: Record<keyof typeof SETTINGS_FIELDS, AccountAddressField> = {
  name: 'name',
  creditLimit: 'creditLimit',
  creditFactor: 'creditFactor',
  signupCredits: 'signupCredits',
  cadence: 'cycle.cadence',
  timezone: 'cycle.timezone',
};

/** One FieldEdit per patched field: `group.eng.allocation` → groups.allocation. */
function fieldEdits<F extends string>(
  address: (field: F) => string,
  table: FieldEdit['table'],
  columns: Record<F, string>,
  patch: Partial<Record<F, string | null>>,
): FieldEdit[] {
  return (Object.entries(patch) as [F, string | null | undefined][]).map(([f, v]) => ({
    address: address(f),
    table,
    column: columns[f]!,
    value: v ?? null,
  }));
}

/** Levels 1 and 2 of the one lock order (src/ledger/locks.ts): declared state exclusively, then the account row. */
async function lockAccount(tx: Queryable, accountId: string): Promise<void> {
  await lockDeclaredState(tx, accountId);
  const { rows } = await tx.query<{ managed_by: string | null }>(
    'SELECT managed_by FROM accounts WHERE account_id = $1 FOR UPDATE',
    [accountId],
  );
  if (!rows[0]) throw new CreditsError('ACCOUNT_NOT_FOUND', { account: accountId });
  if (rows[0].managed_by === 'git') throw new CreditsError('MANAGED_BY_GIT', { field: 'this account' });
}

type BudgetRule = 'GROUP_OVER_BUDGET' | 'AUTO_APPROVE_OVER_BUDGET' | 'ACCOUNT_OVER_LIMIT';
interface Violation {
  code: BudgetRule;
  group: string | null;
  amount: string;
  budget: string;
}

/**
 * The budget rules of credits.yaml (src/config/semantic-rules.ts) over the live rows, so that an edit here
 * cannot make a state that `credits export` would write as an invalid file. Runtime signups count too: an
 * admin may give them an allocation.
 */
async function budgetViolations(tx: Queryable, accountId: string): Promise<Violation[]> {
  const { rows } = await tx.query<Violation>(
    `WITH g AS (SELECT group_key, allocation + extra AS budget, auto_approve FROM groups WHERE account_id = $1),
          m AS (SELECT group_key, sum(coalesce(allocation, 0) + extra) AS given FROM members
                 WHERE account_id = $1 GROUP BY group_key),
          total AS (SELECT coalesce(sum(budget), 0) AS given FROM g)
     SELECT 'GROUP_OVER_BUDGET' AS code, g.group_key AS "group", trim_scale(m.given)::text AS amount,
            trim_scale(g.budget)::text AS budget
       FROM g JOIN m USING (group_key) WHERE m.given > g.budget
     UNION ALL
     SELECT 'AUTO_APPROVE_OVER_BUDGET', group_key, trim_scale(auto_approve)::text, trim_scale(budget)::text
       FROM g WHERE auto_approve > budget
     UNION ALL
     SELECT 'ACCOUNT_OVER_LIMIT', NULL, trim_scale(total.given)::text, trim_scale(a.credit_limit)::text
       FROM accounts a, total WHERE a.account_id = $1 AND total.given > a.credit_limit`,
    [accountId],
  );
  return rows;
}

/** Refuses an edit that breaks a budget rule that held before it (a state already broken by SQL stays editable). */
function refuseNewViolations(before: Violation[], after: Violation[]): void {
  const seen = new Set(before.map((v) => `${v.code}:${v.group}`));
  const v = after.find((x) => !seen.has(`${x.code}:${x.group}`));
  if (!v) return;
  if (v.code === 'ACCOUNT_OVER_LIMIT') throw new CreditsError(v.code, { sum: v.amount, limit: v.budget });
  if (v.code === 'GROUP_OVER_BUDGET') {
    throw new CreditsError(v.code, { group: v.group ?? undefined, sum: v.amount, budget: v.budget });
  }
  throw new CreditsError(v.code, { group: v.group ?? undefined, autoApprove: v.amount, budget: v.budget });
}

const asText = (v: unknown): Value =>
  v === null || typeof v === 'boolean' ? v : typeof v === 'string' ? v : String(v);
/** Columns holding amounts: `5000` and `5000.000000` are the same value there, and nowhere else (names). */
const AMOUNT_COLUMNS = new Set([
  'allocation',
  'extra',
  'auto_approve',
  'credit_limit',
  'credit_factor',
  'signup_credits',
]);
const same = (column: string, a: unknown, b: Value): boolean =>
  a === b ||
  (AMOUNT_COLUMNS.has(column) && typeof a === 'string' && typeof b === 'string' && dec(a).equals(b));

async function applyEdits(
  store: Store,
  accountId: string,
  actor: string,
  where: (tx: Queryable) => Promise<Record<string, unknown>>,
  edits: FieldEdit[],
  key: Record<string, string>,
  afterWrite?: (tx: Queryable, changed: FieldEdit[]) => Promise<void>,
) {
  // A deadlock victim is run again from the start: the edit rolled back entirely (src/ledger/retry.ts).
  return retriedTransaction(store, async (tx) => {
    await lockAccount(tx, accountId);
    const before = await where(tx);
    const changed = edits.filter((e) => !same(e.column, asText(before[e.column]), e.value));
    if (!changed.length) return { changed: 0 };
    const violationsBefore = await budgetViolations(tx, accountId);
    for (const e of changed) {
      const cond = Object.keys(key)
        .map((k, i) => `${k} = $${i + 3}`)
        .join(' AND ');
      await tx.query(
        `UPDATE ${e.table} SET ${e.column} = $2 WHERE account_id = $1${cond ? ' AND ' + cond : ''}`,
        [accountId, e.value, ...Object.values(key)],
      );
    }
    refuseNewViolations(violationsBefore, await budgetViolations(tx, accountId));
    const serial = await tx.query<{ state_serial: string }>(
      'UPDATE accounts SET state_serial = state_serial + 1 WHERE account_id = $1 RETURNING state_serial',
      [accountId],
    );
    for (const e of changed) {
      const b = before[e.column];
      await tx.query(
        `INSERT INTO audit_log (account_id, state_serial, actor, source, address, action, before_value, after_value)
         VALUES ($1, $2, $3, 'api', $4, 'update', $5, $6)`,
        [
          accountId,
          serial.rows[0]!.state_serial,
          actor,
          e.address,
          JSON.stringify(
            typeof b === 'string' && AMOUNT_COLUMNS.has(e.column) ? canonicalNumeric(b) : (b ?? null),
          ),
          JSON.stringify(e.value),
        ],
      );
    }
    await afterWrite?.(tx, changed);
    const cycle = await latestCycle(tx, accountId);
    if (cycle) await syncCapacities(tx, accountId, cycle.cycleNo);
    return { changed: changed.length };
  });
}

export async function editGroup(
  store: Store,
  accountId: string,
  key: string,
  patch: Partial<Record<keyof typeof GROUP_FIELDS, string>>,
  actor: string,
) {
  // credits.yaml has no `name` for the Default group (it is always "Default"): a name given here could never be
  // exported, and every plan would set it back.
  if (key === DEFAULT_GROUP && patch.name !== undefined && patch.name !== DEFAULT_GROUP_NAME) {
    throw new CreditsError('DEFAULT_GROUP_NAME');
  }
  const edits = fieldEdits((f) => groupAddress(key, f), 'groups', GROUP_FIELDS, patch);
  return applyEdits(
    store,
    accountId,
    actor,
    async (tx) => {
      const { rows } = await tx.query<Record<string, unknown>>(
        'SELECT * FROM groups WHERE account_id = $1 AND group_key = $2',
        [accountId, key],
      );
      if (!rows[0]) throw new CreditsError('NOT_FOUND', { what: `group ${key}` });
      return rows[0];
    },
    edits,
    { group_key: key },
  );
}

/** The terms of a user credits.yaml does not name: the Default group, no allocation, no extra. */
function onDefaultTerms(m: Record<string, unknown>): boolean {
  const group = m.group ?? m.group_key;
  return group === DEFAULT_GROUP && m.allocation == null && same('extra', asText(m.extra ?? '0'), '0');
}

export async function editMember(
  store: Store,
  accountId: string,
  email: string,
  patch: { allocation?: string | null; extra?: string; group?: string },
  actor: string,
) {
  const edits = fieldEdits((f) => memberAddress(email, f), 'members', MEMBER_FIELDS, patch);
  return applyEdits(
    store,
    accountId,
    actor,
    async (tx) => {
      const { rows } = await tx.query<Record<string, unknown>>(
        'SELECT * FROM members WHERE account_id = $1 AND email = $2',
        [accountId, email],
      );
      if (!rows[0]) throw new CreditsError('MEMBER_NOT_FOUND', { email });
      if (!rows[0].declared && !isValidEmail(email) && !onDefaultTerms({ ...rows[0], ...patch })) {
        // Terms of their own make a user part of the declared state, which credits.yaml must be able to hold.
        throw new CreditsError('EMAIL_NOT_DECLARABLE', { email });
      }
      if (patch.group) {
        const g = await tx.query('SELECT 1 FROM groups WHERE account_id = $1 AND group_key = $2', [
          accountId,
          patch.group,
        ]);
        if (g.rowCount === 0) throw new CreditsError('NOT_FOUND', { what: `group ${patch.group}` });
      }
      return rows[0];
    },
    edits,
    { email },
  );
}

export async function editSettings(
  store: Store,
  accountId: string,
  patch: Partial<Record<keyof typeof SETTINGS_FIELDS, string>>,
  actor: string,
  now: Date = new Date(),
) {
  if (patch.cadence !== undefined && !parseCadence(patch.cadence)) {
    throw new CreditsError('UNKNOWN_CADENCE', { value: patch.cadence });
  }
  if (patch.timezone !== undefined) {
    if (!isValidTimeZone(patch.timezone))
      throw new CreditsError('UNKNOWN_TIMEZONE', { value: patch.timezone });
    patch = { ...patch, timezone: canonicalTimeZone(patch.timezone) };
  }
  const edits = fieldEdits((f) => accountAddress(SETTINGS_ADDRESS[f]), 'accounts', SETTINGS_FIELDS, patch);
  return applyEdits(
    store,
    accountId,
    actor,
    async (tx) => {
      const { rows } = await tx.query<Record<string, unknown>>(
        'SELECT * FROM accounts WHERE account_id = $1',
        [accountId],
      );
      return rows[0]!;
    },
    edits,
    {},
    // As in apply: a new cadence or time zone starts a fresh cycle now (usage so far stays in history).
    async (tx, changed) => {
      if (changed.some((e) => e.column === 'cadence' || e.column === 'timezone')) {
        await openAccountCycle(tx, accountId, now, 'cadence-change');
      }
    },
  );
}
