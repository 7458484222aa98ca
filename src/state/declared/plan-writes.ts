// The rows a plan's changes write: the account (and its first cycle), groups, members, then what is applied
// now and each counter's capacity. Runs inside declaredTransaction (transaction.ts), so the whole plan lands
// or none of it. Bulk writes use COPY where the driver has it.
import { CreditsError } from '../../errors.js';
import { DEFAULT_GROUP } from '../../declared-state.js';
import type { Change, ChangeValue, Plan } from '../../plan/plan.js';
import { parseAddress, type Address } from '../../plan/address.js';
import type { Queryable } from '../store.js';
import { latestCycle, openAccountCycle, openCycle } from '../../ledger/cycle-rows.js';
import { syncCapacities } from '../../ledger/capacities.js';
import { ACCOUNT_FIELDS, GROUP_FIELDS, SQL_TYPE, appliedObjectSql, stateKey } from './fields.js';
import { writeAlerts } from './alert-writes.js';

type Obj = Record<string, string | boolean | null>;
const obj = (v: ChangeValue): Obj => (v && typeof v === 'object' ? v : {});
const str = (v: ChangeValue): string | null => (typeof v === 'string' ? v : null);

/** Member rows to write, merged from per-field changes. */
interface MemberWrite {
  email: string;
  group: string | null;
  allocation: string | null;
  setAllocation: boolean;
  extra: string | null;
  /** rollover.max; written only with setRollover (null: none). */
  rollover: string | null;
  setRollover: boolean;
}

/** Writes every change of `plan` and brings the counters of the cycle in force to the new budgets. */
export async function writePlanChanges(
  tx: Queryable,
  plan: Plan,
  now: Date,
  progress: (message: string) => void,
): Promise<void> {
  const byKind = partition(plan.changes);
  await writeAccount(tx, plan.account, byKind.account, now);
  progress(`groups: ${byKind.groups.length} changes`);
  await writeGroups(tx, plan.account, byKind.groups);
  progress(`members: ${byKind.members.length} changes`);
  await writeMembers(tx, plan.account, byKind.members);
  await deleteGroups(tx, plan.account, byKind.groups);
  await writeAlerts(tx, plan.account, byKind.alerts);
  await refreshApplied(tx, plan.account);
  // Budgets changed mid-cycle: the counters of the cycle in force get their new capacities.
  const cycle = await latestCycle(tx, plan.account);
  if (cycle) await syncCapacities(tx, plan.account, cycle.cycleNo);
}

/** A change with its address parsed (address.ts). */
type Addressed<K extends Address['kind']> = { change: Change; address: Extract<Address, { kind: K }> };

function partition(changes: Change[]) {
  const out = {
    account: [] as Addressed<'account'>[],
    groups: [] as Addressed<'group'>[],
    members: [] as Addressed<'member'>[],
    alerts: [] as Addressed<'threshold' | 'webhook'>[],
  };
  for (const change of changes) {
    const address = parseAddress(change.address, change.action);
    if (!address) throw new CreditsError('PLAN_INVALID', { reason: `unknown address ${change.address}` });
    if (address.kind === 'account') out.account.push({ change, address });
    else if (address.kind === 'group') out.groups.push({ change, address });
    else if (address.kind === 'member') out.members.push({ change, address });
    else out.alerts.push({ change, address });
  }
  return out;
}

async function writeAccount(
  tx: Queryable,
  accountId: string,
  changes: Addressed<'account'>[],
  now: Date,
): Promise<void> {
  const create = changes.find((c) => c.address.field === undefined);
  if (create) {
    const a = obj(create.change.after);
    const fields = Object.entries(ACCOUNT_FIELDS);
    await tx.query(
      `INSERT INTO accounts (account_id, ${fields.map(([, f]) => f.column).join(', ')})
       VALUES (${fields.map((_, i) => `$${i + 1}`).join(', ')}, $${fields.length + 1})`,
      [accountId, ...fields.map(([field]) => a[stateKey(field)])],
    );
    await openCycle(tx, accountId, String(a.cadence), String(a.timezone), now, 'created');
    return;
  }
  let cycleChanged = false;
  for (const { change: c, address } of changes) {
    const field = address.field!;
    await tx.query(`UPDATE accounts SET ${ACCOUNT_FIELDS[field].column} = $2 WHERE account_id = $1`, [
      accountId,
      c.after,
    ]);
    if (field === 'cycle.cadence' || field === 'cycle.timezone') cycleChanged = true;
  }
  if (cycleChanged) await openAccountCycle(tx, accountId, now, 'cadence-change');
}

async function writeGroups(tx: Queryable, accountId: string, changes: Addressed<'group'>[]): Promise<void> {
  const creates = changes.filter((c) => c.change.action === 'create');
  if (creates.length) {
    const fields = Object.entries(GROUP_FIELDS);
    const columns = fields.map(([, f]) => f.column);
    const arrays = fields.map(([field, f]) =>
      creates.map(({ change }) => {
        const v = obj(change.after)[stateKey(field)];
        if (f.kind === 'boolean') return v === true;
        return v === undefined || v === null ? null : String(v);
      }),
    );
    // A group may exist already when it is the Default group of a just-created account: upsert.
    await tx.query(
      `INSERT INTO groups (account_id, group_key, ${columns.join(', ')})
       SELECT $1, * FROM unnest($2::text[], ${fields.map(([, f], i) => `$${i + 3}::${SQL_TYPE[f.kind]}[]`).join(', ')})
       ON CONFLICT (account_id, group_key) DO UPDATE
          SET ${columns.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`,
      [accountId, creates.map((c) => c.address.key), ...arrays],
    );
  }
  for (const { change, address } of changes.filter((x) => x.change.action === 'update')) {
    await tx.query(
      `UPDATE groups SET ${GROUP_FIELDS[address.field!].column} = $3 WHERE account_id = $1 AND group_key = $2`,
      [accountId, address.key, change.after],
    );
  }
}

async function deleteGroups(tx: Queryable, accountId: string, changes: Addressed<'group'>[]): Promise<void> {
  const keys = changes.filter((c) => c.change.action === 'delete').map((c) => c.address.key);
  if (!keys.length) return;
  // Members not placed elsewhere by this plan (runtime users included) go back to Default.
  await tx.query(
    `UPDATE members SET group_key = $3, allocation = NULL, extra = 0, rollover_max = NULL
      WHERE account_id = $1 AND group_key = ANY($2::text[])`,
    [accountId, keys, DEFAULT_GROUP],
  );
  await tx.query('DELETE FROM groups WHERE account_id = $1 AND group_key = ANY($2::text[])', [
    accountId,
    keys,
  ]);
}

async function writeMembers(tx: Queryable, accountId: string, changes: Addressed<'member'>[]): Promise<void> {
  const writes = new Map<string, MemberWrite>();
  const deletes: string[] = [];
  for (const { change: c, address } of changes) {
    const { email, field } = address;
    if (c.action === 'delete') {
      deletes.push(email);
      continue;
    }
    const w = writes.get(email) ?? {
      email,
      group: null,
      allocation: null,
      setAllocation: false,
      extra: null,
      rollover: null,
      setRollover: false,
    };
    if (c.action === 'create') {
      const m = obj(c.after);
      Object.assign(w, {
        group: str(m.group ?? null),
        allocation: str(m.allocation ?? null),
        setAllocation: true,
        extra: str(m.extra ?? '0'),
        rollover: str(m.rollover ?? null),
        setRollover: true,
      });
    } else if (field === 'group') w.group = str(c.after);
    else if (field === 'allocation') Object.assign(w, { allocation: str(c.after), setAllocation: true });
    else if (field === 'extra') w.extra = str(c.after);
    else if (field === 'rollover') Object.assign(w, { rollover: str(c.after), setRollover: true });
    writes.set(email, w);
  }
  if (writes.size) await upsertMembers(tx, accountId, [...writes.values()]);
  if (deletes.length) {
    await tx.query(
      `UPDATE members SET group_key = $3, allocation = NULL, extra = 0, rollover_max = NULL, declared = false,
              applied_group = NULL, applied_allocation = NULL, applied_extra = NULL, applied_rollover_max = NULL
        WHERE account_id = $1 AND email = ANY($2::text[])`,
      [accountId, deletes, DEFAULT_GROUP],
    );
  }
}

// Merges the written rows `u` (email, group_key, allocation, set_allocation, extra, rollover_max,
// set_rollover) into members: existing rows
// (declared members, or runtime signups the file now takes ownership of) are updated, the rest inserted.
const mergeMembers = (source: string) => `
  WITH u AS (${source}),
  updated AS (
    UPDATE members m SET group_key = n.group_key, allocation = n.allocation, extra = n.extra, declared = true,
           rollover_max = n.rollover_max,
           applied_group = n.group_key, applied_allocation = n.allocation, applied_extra = n.extra,
           applied_rollover_max = n.rollover_max
      FROM (SELECT m0.email, coalesce(u.group_key, m0.group_key) AS group_key,
                   CASE WHEN u.set_allocation THEN u.allocation ELSE m0.allocation END AS allocation,
                   coalesce(u.extra, m0.extra) AS extra,
                   CASE WHEN u.set_rollover THEN u.rollover_max ELSE m0.rollover_max END AS rollover_max
              FROM u JOIN members m0 ON m0.account_id = $1 AND m0.email = u.email) AS n
     WHERE m.account_id = $1 AND m.email = n.email
     RETURNING m.email)
  INSERT INTO members (account_id, email, group_key, allocation, extra, rollover_max, declared,
                       applied_group, applied_allocation, applied_extra, applied_rollover_max)
  SELECT $1, u.email, coalesce(u.group_key, $2), u.allocation, coalesce(u.extra, 0), u.rollover_max, true,
         coalesce(u.group_key, $2), u.allocation, coalesce(u.extra, 0), u.rollover_max
    FROM u WHERE u.email NOT IN (SELECT email FROM updated)
  ON CONFLICT (account_id, email) DO NOTHING`;

async function upsertMembers(tx: Queryable, accountId: string, writes: MemberWrite[]): Promise<void> {
  if (!tx.copyRows) {
    // One JSON document, sent once: node-pg's array literals (escaping 100k strings, five times, twice) cost
    // more than PostgreSQL parsing the JSON.
    const rows = writes.map((r) => ({
      email: r.email,
      group_key: r.group,
      allocation: r.allocation,
      set_allocation: r.setAllocation,
      extra: r.extra,
      rollover_max: r.rollover,
      set_rollover: r.setRollover,
    }));
    await tx.query(
      mergeMembers(`SELECT * FROM jsonb_to_recordset($3::jsonb)
        AS u(email text, group_key text, allocation numeric, set_allocation boolean, extra numeric,
             rollover_max numeric, set_rollover boolean)`),
      [accountId, DEFAULT_GROUP, JSON.stringify(rows)],
    );
    return;
  }
  const { rows: any } = await tx.query<{ any: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM members WHERE account_id = $1) AS any',
    [accountId],
  );
  if (!any[0]?.any) {
    // No member rows at all (a new account, or its first members): nothing to merge with, so COPY straight
    // into members. A signup racing in between makes the COPY fail on the primary key, and the whole apply
    // with it (nothing is written; applying again merges).
    await tx.copyRows(
      'members',
      [
        'account_id',
        'email',
        'group_key',
        'allocation',
        'extra',
        'rollover_max',
        'declared',
        'applied_group',
        'applied_allocation',
        'applied_extra',
        'applied_rollover_max',
      ],
      writes.map((r) => {
        const group = r.group ?? DEFAULT_GROUP;
        const extra = r.extra ?? '0';
        return [
          accountId,
          r.email,
          group,
          r.allocation,
          extra,
          r.rollover,
          't',
          group,
          r.allocation,
          extra,
          r.rollover,
        ];
      }),
    );
    return;
  }
  // COPY into a transaction-local staging table, then the same merge from it.
  await tx.query(
    `CREATE TEMP TABLE credits_member_writes (email text, group_key text, allocation numeric,
       set_allocation boolean, extra numeric, rollover_max numeric, set_rollover boolean) ON COMMIT DROP`,
  );
  await tx.copyRows(
    'credits_member_writes',
    ['email', 'group_key', 'allocation', 'set_allocation', 'extra', 'rollover_max', 'set_rollover'],
    writes.map((r) => [
      r.email,
      r.group,
      r.allocation,
      r.setAllocation ? 't' : 'f',
      r.extra,
      r.rollover,
      r.setRollover ? 't' : 'f',
    ]),
  );
  await tx.query(mergeMembers('SELECT * FROM credits_member_writes'), [accountId, DEFAULT_GROUP]);
}

/** After the writes, what the file declares is what is live: record it as applied (drift is measured from it). */
async function refreshApplied(tx: Queryable, accountId: string): Promise<void> {
  await tx.query(
    `UPDATE members SET applied_group = group_key, applied_allocation = allocation, applied_extra = extra,
                        applied_rollover_max = rollover_max
      WHERE account_id = $1 AND declared
        AND (applied_group IS DISTINCT FROM group_key OR applied_allocation IS DISTINCT FROM allocation
             OR applied_extra IS DISTINCT FROM extra OR applied_rollover_max IS DISTINCT FROM rollover_max)`,
    [accountId],
  );
  await tx.query(`UPDATE groups SET applied = ${appliedObjectSql(GROUP_FIELDS)} WHERE account_id = $1`, [
    accountId,
  ]);
}
