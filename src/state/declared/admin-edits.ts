// Admin edits of declared fields through the API (dashboard), recorded as drift: under the account's
// declared-state lock, the changed fields written, the budget rules of credits.yaml rechecked, the state serial
// bumped (so saved plans go stale) and one audit row per field. Which column a field is comes from fields.ts.
import { CreditsError } from '../../errors.js';
import { canonical, dec } from '../../decimal.js';
import { DEFAULT_GROUP } from '../../declared-state.js';
import { isValidEmail } from '../../config/semantic-rules.js';
import { latestCycle, openAccountCycle } from '../../ledger/cycle-rows.js';
import { syncCapacities } from '../../ledger/capacities.js';
import { accountAddress, groupAddress, memberAddress } from '../../plan/address.js';
import type { Queryable, Store } from '../store.js';
import { writeAudit } from './audit.js';
import {
  ACCOUNT_FIELDS,
  AMOUNT_COLUMNS,
  GROUP_FIELDS,
  MEMBER_FIELDS,
  editedField,
  type DeclaredField,
} from './fields.js';
import { declaredTransaction, lockEditableAccount } from './transaction.js';
import { bumpStateSerial } from './serial.js';

type Value = string | boolean | null;
interface FieldEdit {
  address: string;
  column: string;
  value: Value;
}

/** One FieldEdit per patched field: `group.eng.allocation` → groups.allocation. */
function fieldEdits<F extends string>(
  fields: Record<F, DeclaredField>,
  address: (field: F) => string,
  patch: Record<string, string | null | undefined>,
): FieldEdit[] {
  return Object.entries(patch).map(([name, v]) => {
    const field = editedField(fields, name);
    // The route's schema admits only editable fields.
    if (field === undefined) throw new Error(`not an editable field: ${name}`);
    return { address: address(field), column: fields[field].column, value: v ?? null };
  });
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

/** How far over its budget a violation is: what is given beyond the budget. */
const excess = (v: Violation) => dec(v.amount).minus(v.budget);

/**
 * Refuses an edit that breaks a budget rule that held before it, or takes a rule already broken (by SQL, or a
 * lowered budget) further over: in a group over its budget, more promised to a member is refused like any
 * over-promise. A state already broken stays editable otherwise: unrelated edits, and edits towards the rule.
 */
function refuseNewOrWorseViolations(before: Violation[], after: Violation[]): void {
  const was = new Map(before.map((v) => [`${v.code}:${v.group}`, excess(v)]));
  const v = after.find((x) => {
    const old = was.get(`${x.code}:${x.group}`);
    return old === undefined || excess(x).greaterThan(old);
  });
  if (!v) return;
  if (v.code === 'ACCOUNT_OVER_LIMIT') throw new CreditsError(v.code, { sum: v.amount, limit: v.budget });
  if (v.code === 'GROUP_OVER_BUDGET') {
    throw new CreditsError(v.code, { group: v.group ?? undefined, sum: v.amount, budget: v.budget });
  }
  throw new CreditsError(v.code, { group: v.group ?? undefined, autoApprove: v.amount, budget: v.budget });
}

const asText = (v: unknown): Value =>
  v === null || typeof v === 'boolean' ? v : typeof v === 'string' ? v : String(v);
const same = (column: string, a: unknown, b: Value): boolean =>
  a === b ||
  (AMOUNT_COLUMNS.has(column) && typeof a === 'string' && typeof b === 'string' && dec(a).equals(b));

/**
 * The row an edit changes: its table, the columns that pick it out besides account_id, the coded error when it
 * does not exist, and any further check of the row (and the patch) before anything is written.
 */
interface EditTarget {
  table: 'accounts' | 'groups' | 'members';
  key: Record<string, string>;
  missing: () => CreditsError;
  check?: (tx: Queryable, row: Record<string, unknown>) => Promise<void>;
}

/** `account_id = $1 AND k1 = $first AND …`: the target row's condition, its key values from $first on. */
const rowCondition = (key: Record<string, string>, first: number): string =>
  ['account_id = $1', ...Object.keys(key).map((k, i) => `${k} = $${first + i}`)].join(' AND ');

async function readTarget(tx: Queryable, accountId: string, target: EditTarget) {
  const { rows } = await tx.query<Record<string, unknown>>(
    `SELECT * FROM ${target.table} WHERE ${rowCondition(target.key, 2)}`,
    [accountId, ...Object.values(target.key)],
  );
  const row = rows[0];
  if (!row) throw target.missing();
  await target.check?.(tx, row);
  return row;
}

async function applyEdits(
  store: Store,
  accountId: string,
  actor: string,
  target: EditTarget,
  edits: FieldEdit[],
  afterWrite?: (tx: Queryable, changed: FieldEdit[]) => Promise<void>,
) {
  return declaredTransaction(store, accountId, async (tx) => {
    await lockEditableAccount(tx, accountId);
    const before = await readTarget(tx, accountId, target);
    const changed = edits.filter((e) => !same(e.column, asText(before[e.column]), e.value));
    if (!changed.length) return { changed: 0 };
    const violationsBefore = await budgetViolations(tx, accountId);
    for (const e of changed) {
      await tx.query(`UPDATE ${target.table} SET ${e.column} = $2 WHERE ${rowCondition(target.key, 3)}`, [
        accountId,
        e.value,
        ...Object.values(target.key),
      ]);
    }
    refuseNewOrWorseViolations(violationsBefore, await budgetViolations(tx, accountId));
    const serial = await bumpStateSerial(tx, accountId);
    await writeAudit(
      tx,
      { accountId, stateSerial: serial, actor, source: 'api', commitSha: null },
      changed.map((e) => {
        const b = before[e.column];
        return {
          address: e.address,
          action: 'update',
          before: JSON.stringify(
            typeof b === 'string' && AMOUNT_COLUMNS.has(e.column) ? canonical(b) : (b ?? null),
          ),
          after: JSON.stringify(e.value),
        };
      }),
    );
    await afterWrite?.(tx, changed);
    const cycle = await latestCycle(tx, accountId);
    if (cycle) await syncCapacities(tx, accountId, cycle.cycleNo);
    return { changed: changed.length };
  });
}

/** The terms of a user credits.yaml does not name: the Default group, no allocation, no extra. */
function onDefaultTerms(m: Record<string, unknown>): boolean {
  const group = m.group ?? m.group_key;
  return group === DEFAULT_GROUP && m.allocation == null && same('extra', asText(m.extra ?? '0'), '0');
}

export type GroupPatch = Partial<Record<'name' | 'allocation' | 'extra' | 'autoApprove', string>>;
export type MemberPatch = { allocation?: string | null; extra?: string; group?: string };
export type SettingsPatch = Partial<
  Record<'name' | 'creditLimit' | 'creditFactor' | 'signupCredits' | 'cadence' | 'timezone', string>
>;

export async function editGroupFields(
  store: Store,
  accountId: string,
  key: string,
  patch: GroupPatch,
  actor: string,
) {
  const edits = fieldEdits(GROUP_FIELDS, (f) => groupAddress(key, f), patch);
  const target: EditTarget = {
    table: 'groups',
    key: { group_key: key },
    missing: () => new CreditsError('NOT_FOUND', { what: `group ${key}` }),
  };
  return applyEdits(store, accountId, actor, target, edits);
}

export async function editMemberFields(
  store: Store,
  accountId: string,
  email: string,
  patch: MemberPatch,
  actor: string,
) {
  const edits = fieldEdits(MEMBER_FIELDS, (f) => memberAddress(email, f), patch);
  const target: EditTarget = {
    table: 'members',
    key: { email },
    missing: () => new CreditsError('MEMBER_NOT_FOUND', { email }),
    check: async (tx, row) => {
      if (!row.declared && !isValidEmail(email) && !onDefaultTerms({ ...row, ...patch })) {
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
    },
  };
  return applyEdits(store, accountId, actor, target, edits);
}

/** Settings of the account; a new cadence or time zone starts a fresh cycle `now`, as in apply. */
export async function editAccountFields(
  store: Store,
  accountId: string,
  patch: SettingsPatch,
  actor: string,
  now: Date,
) {
  const edits = fieldEdits(ACCOUNT_FIELDS, (f) => accountAddress(f), patch);
  const target: EditTarget = {
    table: 'accounts',
    key: {},
    missing: () => new CreditsError('ACCOUNT_NOT_FOUND', { account: accountId }),
  };
  // Usage so far stays in history.
  return applyEdits(store, accountId, actor, target, edits, async (tx, changed) => {
    if (changed.some((e) => e.column === 'cadence' || e.column === 'timezone')) {
      await openAccountCycle(tx, accountId, now, 'cadence-change');
    }
  });
}
