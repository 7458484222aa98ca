// The read model of the runtime API: account overview, groups, members and one member's balance this cycle.
import { canonical, dec } from '../decimal.js';
import { CreditsError } from '../errors.js';
import { ensureCurrentCycle } from './cycle-rows.js';
import { remainingFor, spendContext } from './spend.js';
import { decodeCursor, encodeCursor, ID_PART, pageLimit, pageOf, type Page, type PageQuery } from './page.js';
import { freeOf } from './budget-counters.js';
import type { Queryable } from '../state/store.js';

const num = (v: string | null | undefined): string => canonical(v ?? '0');

export interface GroupView {
  key: string;
  name: string;
  members: number;
  allocation: string;
  extra: string;
  distributed: string;
  available: string;
  autoApprove: string;
  autoApproveLeft: string;
  /** What of the pool rolled over into this cycle (the group's rollover), apart from the allocation. */
  rolledOver: string;
  used: string;
}

/** Every group of the account (the overview's); the API lists them a page at a time (groupsPage). */
export const groupsView = (db: Queryable, accountId: string, now: Date): Promise<GroupView[]> =>
  groupRows(db, accountId, now, null, null);

const GROUP_CURSOR = [/^[a-z0-9][a-z0-9_-]{0,62}$/];

/** A page of groups in the overview's order (by key, Default last). */
export async function groupsPage(
  db: Queryable,
  accountId: string,
  now: Date,
  page: PageQuery,
): Promise<Page<GroupView>> {
  const limit = pageLimit(page);
  const after = page.cursor ? decodeCursor(page.cursor, GROUP_CURSOR)[0]! : null;
  const rows = await groupRows(db, accountId, now, after, limit + 1);
  return pageOf(
    rows,
    limit,
    (g) => [g.key],
    (g) => g,
  );
}

async function groupRows(
  db: Queryable,
  accountId: string,
  now: Date,
  after: string | null,
  limit: number | null,
): Promise<GroupView[]> {
  const cycle = await ensureCurrentCycle(db, accountId, now);
  const { rows } = await db.query<{
    group_key: string;
    name: string;
    members: string;
    allocation: string;
    extra: string;
    auto_approve: string;
    distributed: string;
    grants: string;
    pool_used: string | null;
    pool_capacity: string | null;
    auto_used: string | null;
    rolled_over: string | null;
    used: string | null;
  }>(
    `SELECT g.group_key, g.name, g.allocation, g.extra, g.auto_approve,
            (SELECT count(*) FROM members m WHERE m.account_id = g.account_id AND m.group_key = g.group_key) AS members,
            (SELECT coalesce(sum(coalesce(m.allocation, 0) + m.extra), 0) FROM members m
              WHERE m.account_id = g.account_id AND m.group_key = g.group_key) AS distributed,
            (SELECT coalesce(sum(r.approved_amount), 0) FROM requests r WHERE r.account_id = g.account_id
              AND r.cycle_no = $2 AND r.group_key = g.group_key AND r.status IN ('approved', 'auto-approved')) AS grants,
            (SELECT sum(used) FROM budget_counters c WHERE c.account_id = g.account_id AND c.cycle_no = $2
              AND c.scope = 'pool:' || g.group_key) AS pool_used,
            (SELECT sum(used) FROM budget_counters c WHERE c.account_id = g.account_id AND c.cycle_no = $2
              AND c.scope = 'auto:' || g.group_key) AS auto_used,
            (SELECT greatest(capacity, used) FROM budget_counters c WHERE c.account_id = g.account_id
              AND c.cycle_no = $2 AND c.scope = 'carry-pool:' || g.group_key AND c.slice = 0) AS rolled_over,
            (SELECT sum(used) FROM budget_counters c WHERE c.account_id = g.account_id AND c.cycle_no = $2
              AND c.scope = 'group:' || g.group_key) AS used
       FROM groups g WHERE g.account_id = $1
        AND ($3::text IS NULL OR (g.group_key = 'default', g.group_key) > ($3 = 'default', $3))
      ORDER BY g.group_key = 'default', g.group_key LIMIT $4`,
    [accountId, cycle.cycleNo, after, limit],
  );
  return rows.map((g) => {
    const budget = dec(g.allocation).plus(g.extra);
    const distributed = dec(g.distributed).plus(g.grants);
    // Pool counters hold grants and pool usage; available = allocation + extra − distributed − pool usage.
    const poolUsage = dec(g.pool_used ?? '0')
      .minus(g.grants)
      .clampedTo(0, Infinity);
    return {
      key: g.group_key,
      name: g.name,
      members: Number(g.members),
      allocation: num(g.allocation),
      extra: num(g.extra),
      distributed: canonical(distributed),
      available: canonical(budget.minus(distributed).minus(poolUsage)),
      autoApprove: num(g.auto_approve),
      autoApproveLeft: canonical(
        dec(g.auto_approve)
          .minus(g.auto_used ?? '0')
          .clampedTo(0, Infinity),
      ),
      rolledOver: num(g.rolled_over),
      used: num(g.used),
    };
  });
}

export async function overview(db: Queryable, accountId: string, now: Date) {
  const acct = await db.query<{
    account_id: string;
    name: string;
    credit_limit: string;
    credit_factor: string;
    signup_credits: string;
    managed_by: string | null;
  }>(
    'SELECT account_id, name, credit_limit, credit_factor, signup_credits, managed_by FROM accounts WHERE account_id = $1',
    [accountId],
  );
  const a = acct.rows[0];
  if (!a) throw new CreditsError('ACCOUNT_NOT_FOUND', { account: accountId });
  const cycle = await ensureCurrentCycle(db, accountId, now);
  // From the counters (spent = usage + live holds) rather than a scan of the cycle's ledger.
  const sums = await db.query<{ spent: string | null; reserved: string | null }>(
    `SELECT (SELECT sum(used) FROM budget_counters
              WHERE account_id = $1 AND cycle_no = $2 AND scope = 'account') AS spent,
            (SELECT sum((charges->>'account')::numeric) FROM reservations
              WHERE account_id = $1 AND cycle_no = $2 AND status = 'held') AS reserved`,
    [accountId, cycle.cycleNo],
  );
  const reserved = dec(sums.rows[0]?.reserved ?? '0');
  const used = dec(sums.rows[0]?.spent ?? '0').minus(reserved);
  const limit = dec(a.credit_limit);
  return {
    account: {
      id: a.account_id,
      name: a.name,
      creditFactor: canonical(a.credit_factor),
      signupCredits: canonical(a.signup_credits),
      managedBy: a.managed_by,
    },
    cycle: {
      number: cycle.cycleNo,
      start: cycle.start.toISOString(),
      end: cycle.end.toISOString(),
      cadence: cycle.cadence,
      timezone: cycle.timezone,
    },
    creditLimit: canonical(limit),
    used: canonical(used),
    reserved: canonical(reserved),
    balance: canonical(limit.minus(used).minus(reserved)),
    usagePercent: limit.isZero() ? '0' : canonical(used.dividedBy(limit).times(100).toDecimalPlaces(2)),
    groups: await groupsView(db, accountId, now),
  };
}

// E-mails as stored (lower case); the cursor is only compared with them, never trusted further. Text only:
// U+0000 and unpaired surrogates cannot be compared with text in PostgreSQL.
const MEMBER_CURSOR = [/^[^\s\u0000\p{Cs}]{1,254}$/u];

/** A page of a group's members by e-mail, with the total of the search for page counts. */
export async function membersPage(
  db: Queryable,
  accountId: string,
  group: string,
  query: { search?: string } & PageQuery,
  now: Date,
) {
  const limit = pageLimit(query);
  const after = query.cursor ? decodeCursor(query.cursor, MEMBER_CURSOR)[0]! : null;
  const exists = await db.query('SELECT 1 FROM groups WHERE account_id = $1 AND group_key = $2', [
    accountId,
    group,
  ]);
  if (exists.rowCount === 0) throw new CreditsError('NOT_FOUND', { what: `group ${group}` });
  const cycle = await ensureCurrentCycle(db, accountId, now);
  const pattern = query.search ? `%${query.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const total = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM members WHERE account_id = $1 AND group_key = $2
        AND ($3::text IS NULL OR email LIKE $3 OR lower(coalesce(name, '')) LIKE $3)`,
    [accountId, group, pattern],
  );
  const { rows } = await db.query<{
    email: string;
    name: string | null;
    allocation: string | null;
    extra: string;
    declared: boolean;
    rolled_over: string;
    used: string;
  }>(
    `SELECT m.email, m.name, m.allocation, m.extra, m.declared,
            coalesce((SELECT greatest(b.capacity, b.used) FROM budget_counters b WHERE b.account_id = m.account_id
                       AND b.cycle_no = $4 AND b.scope = 'carry:' || m.email AND b.slice = 0), 0) AS rolled_over,
            coalesce((SELECT sum(e.credits) FROM ledger_entries e WHERE e.account_id = m.account_id
                       AND e.cycle_no = $4 AND e.member_email = m.email AND e.kind = 'usage'), 0) AS used
       FROM members m WHERE m.account_id = $1 AND m.group_key = $2
        AND ($3::text IS NULL OR m.email LIKE $3 OR lower(coalesce(m.name, '')) LIKE $3)
        AND ($6::text IS NULL OR m.email > $6)
      ORDER BY m.email LIMIT $5`,
    [accountId, group, pattern, cycle.cycleNo, limit + 1, after],
  );
  const items = [];
  for (const m of rows.slice(0, limit)) {
    const ctx = await spendContext(db, accountId, m.email, now);
    items.push({
      email: m.email,
      name: m.name,
      allocation: m.allocation === null ? null : num(m.allocation),
      extra: num(m.extra),
      declared: m.declared,
      rolledOver: num(m.rolled_over),
      used: num(m.used),
      remaining: (await remainingFor(db, ctx)).member,
    });
  }
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: rows.length > limit && last ? encodeCursor([last.email]) : null,
    total: Number(total.rows[0]!.n),
  };
}

export async function memberView(db: Queryable, accountId: string, email: string, now: Date) {
  const ctx = await spendContext(db, accountId, email.toLowerCase(), now);
  const { rows } = await db.query<{ name: string | null; allocation: string | null; extra: string }>(
    'SELECT name, allocation, extra FROM members WHERE account_id = $1 AND email = $2',
    [accountId, ctx.email],
  );
  // What the member spent this cycle, whichever counters it was charged to (their own, the pool, signup
  // credits): the sum of their usage entries, as the members page reports it. The history is memberHistory.
  const spent = await db.query<{ used: string | null }>(
    `SELECT sum(credits) AS used FROM ledger_entries
      WHERE account_id = $1 AND cycle_no = $2 AND member_email = $3 AND kind = 'usage'`,
    [accountId, ctx.cycle.cycleNo, ctx.email],
  );
  const carry = await freeOf(db, accountId, ctx.cycle.cycleNo, [`carry:${ctx.email}`]);
  return {
    email: ctx.email,
    name: rows[0]!.name,
    group: ctx.group,
    allocation: rows[0]!.allocation === null ? null : num(rows[0]!.allocation),
    extra: num(rows[0]!.extra),
    // Credits rolled over into this cycle, apart from the allocation (remaining.rolledOver: what is left). A
    // carry expired by removing rollover has capacity 0: what was spent of it is shown.
    rolledOver: num(maxOf(carry.get(`carry:${ctx.email}`))),
    used: num(spent.rows[0]?.used),
    remaining: await remainingFor(db, ctx),
  };
}

const maxOf = (c: { capacity: string; used: string } | undefined): string | undefined =>
  c && (dec(c.used).greaterThan(c.capacity) ? c.used : c.capacity);

export interface HistoryEntry {
  /** rollover: what of the cycle before carried into this one (the member's own carry; a pool's has no member). */
  kind: 'usage' | 'grant' | 'rollover';
  credits: string;
  model: string | null;
  requestId: string | null;
  at: string;
}

const HISTORY_CURSOR = [ID_PART];

/** A page of the member's usage, grants and rolled-over credits this cycle, newest first. */
export async function memberHistory(
  db: Queryable,
  accountId: string,
  email: string,
  now: Date,
  page: PageQuery,
): Promise<Page<HistoryEntry>> {
  const ctx = await spendContext(db, accountId, email.toLowerCase(), now);
  const limit = pageLimit(page);
  const before = page.cursor ? decodeCursor(page.cursor, HISTORY_CURSOR)[0]! : null;
  const { rows } = await db.query<{
    entry_id: string;
    kind: HistoryEntry['kind'];
    credits: string;
    model: string | null;
    created_at: Date;
    request_id: string | null;
  }>(
    `SELECT entry_id, kind, credits, model, created_at, request_id FROM ledger_entries
      WHERE account_id = $1 AND cycle_no = $2 AND member_email = $3 AND kind IN ('usage', 'grant', 'rollover')
        AND ($4::bigint IS NULL OR entry_id < $4::bigint)
      ORDER BY entry_id DESC LIMIT $5`,
    [accountId, ctx.cycle.cycleNo, ctx.email, before, limit + 1],
  );
  return pageOf(
    rows,
    limit,
    (e) => [String(e.entry_id)],
    (e) => ({
      kind: e.kind,
      credits: num(e.credits),
      model: e.model,
      requestId: e.request_id,
      at: e.created_at.toISOString(),
    }),
  );
}
