// Reads what a spend-aware plan shows beside its budget changes (src/plan/spend.ts): this cycle's counters of
// the members, groups and account a plan touches, their pending requests and open holds, and who last changed
// a value outside credits.yaml (the audit log). Only the plan's own members and groups are read.
import { canonical } from '../decimal.js';
import type { SpendFacts } from '../plan/spend.js';
import type { Queryable } from '../state/store.js';

const text = (v: string | null): string => (v === null ? '0' : canonical(v));

export async function readSpendFacts(
  db: Queryable,
  accountId: string,
  ask: { members: string[]; groups: string[]; driftAddresses: string[] },
): Promise<SpendFacts & { cycle: { cadence: string; timezone: string } | null }> {
  const cycle = `(SELECT max(cycle_no) FROM cycles WHERE account_id = $1)`;
  const scopes = [
    'account',
    ...ask.members.map((e) => `member:${e}`),
    ...ask.groups.map((g) => `group:${g}`),
  ];
  // One after another: on a transaction's single connection they would queue anyway.
  const account = await db.query<{ credit_limit: string; cadence: string; timezone: string }>(
    'SELECT credit_limit, cadence, timezone FROM accounts WHERE account_id = $1',
    [accountId],
  );
  const members = await db.query<{ email: string; allocation: string | null; extra: string }>(
    'SELECT email, allocation, extra FROM members WHERE account_id = $1 AND email = ANY($2)',
    [accountId, ask.members],
  );
  const groups = await db.query<{ group_key: string; allocation: string; extra: string }>(
    'SELECT group_key, allocation, extra FROM groups WHERE account_id = $1 AND group_key = ANY($2)',
    [accountId, ask.groups],
  );
  const counters = await db.query<{ scope: string; used: string; capacity: string }>(
    `SELECT scope, sum(used) AS used, sum(capacity) AS capacity FROM budget_counters
      WHERE account_id = $1 AND cycle_no = ${cycle} AND scope = ANY($2) GROUP BY scope`,
    [accountId, scopes],
  );
  const pending = await db.query<{ email: string; n: string }>(
    `SELECT member_email AS email, count(*) AS n FROM requests
      WHERE account_id = $1 AND status = 'pending' AND member_email = ANY($2) GROUP BY member_email`,
    [accountId, ask.members],
  );
  const held = await db.query<{ email: string; n: string }>(
    `SELECT member_email AS email, count(*) AS n FROM reservations
      WHERE account_id = $1 AND status = 'held' AND expires_at > now() AND member_email = ANY($2)
      GROUP BY member_email`,
    [accountId, ask.members],
  );
  // The latest audit row per drifted address (or per field of a whole member); one written by an apply means
  // the value was changed after it by something that writes no audit row.
  const audit =
    ask.driftAddresses.length === 0
      ? { rows: [] }
      : await db.query<{ address: string; source: string; actor: string; at: Date }>(
          `SELECT DISTINCT ON (address) address, source, actor, created_at AS at FROM audit_log
            WHERE account_id = $1
              AND (address = ANY($2) OR address LIKE ANY (SELECT a || '.%' FROM unnest($2::text[]) AS a))
            ORDER BY address, audit_id DESC`,
          [accountId, ask.driftAddresses],
        );
  const counter = new Map(counters.rows.map((r) => [r.scope, r]));
  const usedOf = (scope: string) => text(counter.get(scope)?.used ?? null);
  return {
    members: new Map(
      members.rows.map((m) => [
        m.email,
        {
          allocation: m.allocation === null ? null : canonical(m.allocation),
          extra: text(m.extra),
          used: usedOf(`member:${m.email}`),
          capacity: counter.has(`member:${m.email}`)
            ? text(counter.get(`member:${m.email}`)!.capacity)
            : null,
        },
      ]),
    ),
    groups: new Map(
      groups.rows.map((g) => [
        g.group_key,
        { allocation: text(g.allocation), extra: text(g.extra), used: usedOf(`group:${g.group_key}`) },
      ]),
    ),
    account: account.rows[0]
      ? { creditLimit: text(account.rows[0].credit_limit), used: usedOf('account') }
      : null,
    pendingRequests: new Map(pending.rows.map((r) => [r.email, Number(r.n)])),
    openReservations: new Map(held.rows.map((r) => [r.email, Number(r.n)])),
    nextBoundaries: [],
    cycle: account.rows[0] ? { cadence: account.rows[0].cadence, timezone: account.rows[0].timezone } : null,
    changedBy: new Map(
      audit.rows.map((r) => [
        r.address,
        { source: r.source, actor: r.actor, at: new Date(r.at).toISOString() },
      ]),
    ),
  };
}
