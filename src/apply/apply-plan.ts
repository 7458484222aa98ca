// Applies a Plan: one transaction, a per-account advisory lock, the state serial rechecked, bulk writes, one
// audit row per change. Either all of the plan lands or none of it.
import { CreditsError } from '../errors.js';
import { DEFAULT_GROUP } from '../declared-state.js';
import type { Change, ChangeValue, Plan } from '../plan/plan.js';
import {
  parseAddress,
  type AccountAddressField,
  type Address,
  type GroupAddressField,
} from '../plan/address.js';
import type { Queryable, Store } from '../state/store.js';
import { latestCycle, openAccountCycle, openCycle } from '../ledger/cycles.js';
import { syncCapacities } from '../ledger/capacities.js';
import { lockDeclaredState } from '../ledger/locks.js';
import { retriedTransaction } from '../ledger/retry.js';
import { decodeConfigText, planSource } from './make-plan.js';
import { replanSaved } from './replan-saved.js';
import { checkPlan } from '../plan/check-plan.js';

export interface ApplyOptions {
  actor: string;
  commitSha?: string | null;
  /** audit source: `apply` for credits apply. */
  source?: string;
  now?: Date;
  onProgress?: (message: string) => void;
  /** For a saved plan, planned again under the lock: as `--allow-destroy`, and the size limit of its file. */
  allowDestroy?: boolean;
  maxBytes?: number;
}

export interface ApplyResult {
  account: string;
  stateSerial: number;
  applied: number;
}

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
}

/** A PGlite apply with at least this many changes refreshes the planner's statistics. */
export const ANALYZE_AFTER_CHANGES = 500;

/**
 * Applies `plan`. A plan not made by makePlan in this process (a saved plan, read from a file) is trusted for
 * nothing: its configuration is planned again under the lock and only that plan, identical to the saved one,
 * is applied (replan-saved.ts).
 */
export async function applyPlan(store: Store, given: Plan, opts: ApplyOptions): Promise<ApplyResult> {
  const now = opts.now ?? new Date();
  const progress = opts.onProgress ?? (() => {});
  let plan = given;
  const saved = !planSource(given);
  if (saved) checkPlan(given); // its shape and addresses, before the account's lock is taken in its name
  // A deadlock victim is applied again from the start: it rolled back entirely (src/ledger/retry.ts).
  const result = await retriedTransaction(store, async (tx) => {
    plan = given;
    // Serialise applies per account, and hold ledger writes off while the declared state changes (level 1 of
    // the one lock order, src/ledger/locks.ts); released at commit or rollback.
    await lockDeclaredState(tx, plan.account);
    const current = await tx.query<{
      state_serial: string;
      declared_version: string;
      applied_declared_version: string | null;
    }>(
      'SELECT state_serial, declared_version, applied_declared_version FROM accounts WHERE account_id = $1 FOR UPDATE',
      [plan.account],
    );
    const serial = current.rows[0] ? Number(current.rows[0].state_serial) : 0;
    if (saved) {
      const declaredVersion = current.rows[0] ? Number(current.rows[0].declared_version) : null;
      plan = await replanSaved(tx, given, { stateSerial: serial, declaredVersion }, opts);
      if (plan.changes.length === 0)
        return { account: plan.account, stateSerial: serial, applied: 0, keptText: false };
    }
    const creating = plan.changes.some((c) => c.address === 'account' && c.action === 'create');
    if (serial !== plan.stateSerial || (creating && current.rows[0])) {
      throw new CreditsError('PLAN_STALE', { planned: plan.stateSerial, current: serial });
    }

    // After the writes below, the live declared state is exactly the file's when the plan was diffed against
    // the state still live: made in this process (a saved plan was just planned again, above) from the same
    // declared_version. Only then are the file's digest (the next plan of the same file then skips everything,
    // make-plan.ts) and its text (for the next plan of an edited file) kept; otherwise an SQL write that landed
    // between plan and apply would hide as "no changes".
    const source = planSource(plan);
    const live = current.rows[0];
    const exact =
      source !== undefined && source.declaredVersion === (live ? Number(live.declared_version) : null);
    const fileText = exact ? decodeConfigText(source.bytes, Number.MAX_SAFE_INTEGER) : undefined;

    const byKind = partition(plan.changes);
    await writeAccount(tx, plan.account, byKind.account, now);
    progress(`groups: ${byKind.groups.length} changes`);
    await writeGroups(tx, plan.account, byKind.groups);
    progress(`members: ${byKind.members.length} changes`);
    await writeMembers(tx, plan.account, byKind.members);
    await deleteGroups(tx, plan.account, byKind.groups);
    await refreshApplied(tx, plan.account);
    // Budgets changed mid-cycle: the counters of the cycle in force get their new capacities.
    const cycle = await latestCycle(tx, plan.account);
    if (cycle) await syncCapacities(tx, plan.account, cycle.cycleNo);

    const bumped = await tx.query<{ state_serial: string }>(
      `UPDATE accounts
          SET state_serial = state_serial + 1, applied_config_digest = $2,
              applied_declared_version = declared_version, updated_at = now(),
              applied = jsonb_build_object('id', account_id, 'name', name, 'creditLimit', trim_scale(credit_limit)::text,
                'cadence', cadence, 'timezone', timezone, 'creditFactor', trim_scale(credit_factor)::text,
                'signupCredits', trim_scale(signup_credits)::text, 'managedBy', managed_by)
        WHERE account_id = $1
        RETURNING state_serial`,
      [plan.account, exact ? plan.configDigest : null],
    );
    const newSerial = Number(bumped.rows[0]!.state_serial);
    if (fileText !== undefined) {
      await tx.query(
        `INSERT INTO applied_files (account_id, config_digest, file_text) VALUES ($1, $2, $3)
         ON CONFLICT (account_id) DO UPDATE SET config_digest = EXCLUDED.config_digest, file_text = EXCLUDED.file_text`,
        [plan.account, plan.configDigest, fileText],
      );
    } else {
      await tx.query('DELETE FROM applied_files WHERE account_id = $1', [plan.account]);
    }
    progress(`audit: ${plan.changes.length} rows`);
    await writeAudit(tx, plan, newSerial, opts);
    return {
      account: plan.account,
      stateSerial: newSerial,
      applied: plan.changes.length,
      keptText: fileText !== undefined,
    };
  });
  // PGlite runs PostgreSQL single-user, where autovacuum never runs: without this each apply would leave the
  // previous file text (megabytes for a large file) behind as dead rows for good.
  if (result.keptText && store.kind === 'pglite') {
    await store.exec('VACUUM applied_files').catch(() => {}); // the apply is done; at worst space is kept
  }
  // Nor does autoanalyze: after a large apply the planner would still see the tables as nearly empty and
  // scan them (measured on 100k members: 3 s per members page, 62 ms per usage event, against 91 ms and
  // 2 ms with statistics). `credits serve` analyzes PGlite at start and hourly as well.
  if (store.kind === 'pglite' && result.applied >= ANALYZE_AFTER_CHANGES) {
    // The tables an apply fills; the audit log is read by key only and would double the time.
    await store.exec('ANALYZE members, groups, accounts, budget_counters').catch(() => {}); // the apply is done
  }
  return { account: result.account, stateSerial: result.stateSerial, applied: result.applied };
}

/** A change with its address parsed (address.ts). */
type Addressed<K extends Address['kind']> = { change: Change; address: Extract<Address, { kind: K }> };

function partition(changes: Change[]) {
  const out = {
    account: [] as Addressed<'account'>[],
    groups: [] as Addressed<'group'>[],
    members: [] as Addressed<'member'>[],
  };
  for (const change of changes) {
    const address = parseAddress(change.address, change.action);
    if (!address) throw new CreditsError('PLAN_INVALID', { reason: `unknown address ${change.address}` });
    if (address.kind === 'account') out.account.push({ change, address });
    else if (address.kind === 'group') out.groups.push({ change, address });
    else out.members.push({ change, address });
  }
  return out;
}

const ACCOUNT_COLUMN: Record<AccountAddressField, string> = {
  name: 'name',
  creditLimit: 'credit_limit',
  'cycle.cadence': 'cadence',
  'cycle.timezone': 'timezone',
  creditFactor: 'credit_factor',
  signupCredits: 'signup_credits',
  managedBy: 'managed_by',
};

async function writeAccount(
  tx: Queryable,
  accountId: string,
  changes: Addressed<'account'>[],
  now: Date,
): Promise<void> {
  const create = changes.find((c) => c.address.field === undefined);
  if (create) {
    const a = obj(create.change.after);
    await tx.query(
      `INSERT INTO accounts (account_id, name, credit_limit, cadence, timezone, credit_factor, signup_credits, managed_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [accountId, a.name, a.creditLimit, a.cadence, a.timezone, a.creditFactor, a.signupCredits, a.managedBy],
    );
    await openCycle(tx, accountId, String(a.cadence), String(a.timezone), now, 'created');
    return;
  }
  let cycleChanged = false;
  for (const { change: c, address } of changes) {
    const field = address.field!;
    await tx.query(`UPDATE accounts SET ${ACCOUNT_COLUMN[field]} = $2 WHERE account_id = $1`, [
      accountId,
      c.after,
    ]);
    if (field === 'cycle.cadence' || field === 'cycle.timezone') cycleChanged = true;
  }
  if (cycleChanged) await openAccountCycle(tx, accountId, now, 'cadence-change');
}

const GROUP_COLUMN: Record<GroupAddressField, string> = {
  name: 'name',
  allocation: 'allocation',
  extra: 'extra',
  autoApprove: 'auto_approve',
  protect: 'protect',
};

async function writeGroups(tx: Queryable, accountId: string, changes: Addressed<'group'>[]): Promise<void> {
  const creates = changes.filter((c) => c.change.action === 'create');
  if (creates.length) {
    const cols = {
      key: [] as string[],
      name: [] as string[],
      alloc: [] as string[],
      extra: [] as string[],
      auto: [] as string[],
      protect: [] as boolean[],
    };
    for (const { change, address } of creates) {
      const g = obj(change.after);
      cols.key.push(address.key);
      cols.name.push(String(g.name));
      cols.alloc.push(String(g.allocation));
      cols.extra.push(String(g.extra));
      cols.auto.push(String(g.autoApprove));
      cols.protect.push(g.protect === true);
    }
    // A group may exist already when it is the Default group of a just-created account: upsert.
    await tx.query(
      `INSERT INTO groups (account_id, group_key, name, allocation, extra, auto_approve, protect)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::numeric[], $5::numeric[], $6::numeric[], $7::boolean[])
       ON CONFLICT (account_id, group_key) DO UPDATE
          SET name = EXCLUDED.name, allocation = EXCLUDED.allocation, extra = EXCLUDED.extra,
              auto_approve = EXCLUDED.auto_approve, protect = EXCLUDED.protect`,
      [accountId, cols.key, cols.name, cols.alloc, cols.extra, cols.auto, cols.protect],
    );
  }
  for (const { change, address } of changes.filter((x) => x.change.action === 'update')) {
    await tx.query(
      `UPDATE groups SET ${GROUP_COLUMN[address.field!]} = $3 WHERE account_id = $1 AND group_key = $2`,
      [accountId, address.key, change.after],
    );
  }
}

async function deleteGroups(tx: Queryable, accountId: string, changes: Addressed<'group'>[]): Promise<void> {
  const keys = changes.filter((c) => c.change.action === 'delete').map((c) => c.address.key);
  if (!keys.length) return;
  // Members not placed elsewhere by this plan (runtime users included) go back to Default.
  await tx.query(
    `UPDATE members SET group_key = $3, allocation = NULL, extra = 0
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
    };
    if (c.action === 'create') {
      const m = obj(c.after);
      Object.assign(w, {
        group: str(m.group ?? null),
        allocation: str(m.allocation ?? null),
        setAllocation: true,
        extra: str(m.extra ?? '0'),
      });
    } else if (field === 'group') w.group = str(c.after);
    else if (field === 'allocation') Object.assign(w, { allocation: str(c.after), setAllocation: true });
    else if (field === 'extra') w.extra = str(c.after);
    writes.set(email, w);
  }
  if (writes.size) await upsertMembers(tx, accountId, [...writes.values()]);
  if (deletes.length) {
    await tx.query(
      `UPDATE members SET group_key = $3, allocation = NULL, extra = 0, declared = false,
              applied_group = NULL, applied_allocation = NULL, applied_extra = NULL
        WHERE account_id = $1 AND email = ANY($2::text[])`,
      [accountId, deletes, DEFAULT_GROUP],
    );
  }
}

// Merges the written rows `u` (email, group_key, allocation, set_allocation, extra) into members: existing rows
// (declared members, or runtime signups the file now takes ownership of) are updated, the rest inserted.
const mergeMembers = (source: string) => `
  WITH u AS (${source}),
  updated AS (
    UPDATE members m SET group_key = n.group_key, allocation = n.allocation, extra = n.extra, declared = true,
           applied_group = n.group_key, applied_allocation = n.allocation, applied_extra = n.extra
      FROM (SELECT m0.email, coalesce(u.group_key, m0.group_key) AS group_key,
                   CASE WHEN u.set_allocation THEN u.allocation ELSE m0.allocation END AS allocation,
                   coalesce(u.extra, m0.extra) AS extra
              FROM u JOIN members m0 ON m0.account_id = $1 AND m0.email = u.email) AS n
     WHERE m.account_id = $1 AND m.email = n.email
     RETURNING m.email)
  INSERT INTO members (account_id, email, group_key, allocation, extra, declared,
                       applied_group, applied_allocation, applied_extra)
  SELECT $1, u.email, coalesce(u.group_key, $2), u.allocation, coalesce(u.extra, 0), true,
         coalesce(u.group_key, $2), u.allocation, coalesce(u.extra, 0)
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
    }));
    await tx.query(
      mergeMembers(`SELECT * FROM jsonb_to_recordset($3::jsonb)
        AS u(email text, group_key text, allocation numeric, set_allocation boolean, extra numeric)`),
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
        'declared',
        'applied_group',
        'applied_allocation',
        'applied_extra',
      ],
      writes.map((r) => {
        const group = r.group ?? DEFAULT_GROUP;
        const extra = r.extra ?? '0';
        return [accountId, r.email, group, r.allocation, extra, 't', group, r.allocation, extra];
      }),
    );
    return;
  }
  // COPY into a transaction-local staging table, then the same merge from it.
  await tx.query(
    `CREATE TEMP TABLE credits_member_writes (email text, group_key text, allocation numeric,
       set_allocation boolean, extra numeric) ON COMMIT DROP`,
  );
  await tx.copyRows(
    'credits_member_writes',
    ['email', 'group_key', 'allocation', 'set_allocation', 'extra'],
    writes.map((r) => [r.email, r.group, r.allocation, r.setAllocation ? 't' : 'f', r.extra]),
  );
  await tx.query(mergeMembers('SELECT * FROM credits_member_writes'), [accountId, DEFAULT_GROUP]);
}

/** After the writes, what the file declares is what is live: record it as applied (drift is measured from it). */
async function refreshApplied(tx: Queryable, accountId: string): Promise<void> {
  await tx.query(
    `UPDATE members SET applied_group = group_key, applied_allocation = allocation, applied_extra = extra
      WHERE account_id = $1 AND declared
        AND (applied_group IS DISTINCT FROM group_key OR applied_allocation IS DISTINCT FROM allocation
             OR applied_extra IS DISTINCT FROM extra)`,
    [accountId],
  );
  await tx.query(
    `UPDATE groups SET applied = jsonb_build_object('name', name, 'allocation', trim_scale(allocation)::text,
            'extra', trim_scale(extra)::text, 'autoApprove', trim_scale(auto_approve)::text, 'protect', protect)
      WHERE account_id = $1`,
    [accountId],
  );
}

async function writeAudit(tx: Queryable, plan: Plan, serial: number, opts: ApplyOptions): Promise<void> {
  if (!plan.changes.length) return;
  const source = opts.source ?? 'apply';
  const commit = opts.commitSha ?? null;
  if (tx.copyRows) {
    const json = (v: ChangeValue | undefined): string | null => (v == null ? null : JSON.stringify(v));
    await tx.copyRows(
      'audit_log',
      [
        'account_id',
        'state_serial',
        'actor',
        'source',
        'commit_sha',
        'address',
        'action',
        'before_value',
        'after_value',
      ],
      plan.changes.map((c) => [
        plan.account,
        String(serial),
        opts.actor,
        source,
        commit,
        c.address,
        c.action,
        json(c.before),
        json(c.after),
      ]),
    );
    return;
  }
  // One JSON document for all rows (see upsertMembers): jsonb values go in as they are.
  const rows = plan.changes.map((c) => ({
    address: c.address,
    action: c.action,
    before: c.before ?? null,
    after: c.after ?? null,
  }));
  await tx.query(
    `INSERT INTO audit_log (account_id, state_serial, actor, source, commit_sha, address, action, before_value, after_value)
     SELECT $1, $2, $3, $4, $5, u.address, u.action, u.before, u.after
       FROM jsonb_to_recordset($6::jsonb) AS u(address text, action text, before jsonb, after jsonb)`,
    [plan.account, serial, opts.actor, source, commit, JSON.stringify(rows)],
  );
}
