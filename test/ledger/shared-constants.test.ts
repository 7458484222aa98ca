// Rules that exist twice, once in TypeScript and once in the SQL functions of the migrations, must agree: the
// slices of a scope, the lock order of counters, and a member's capacity. Each is asked of a migrated
// database and compared with the TypeScript side over a table of scopes and members.
import { describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { inLockOrder, slicesOf } from '../../src/ledger/budget-counters.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { approveRequest, createRequest } from '../../src/ledger/requests.js';
import { recordUsage } from '../../src/ledger/usage.js';
import { latestCycle } from '../../src/ledger/cycle-rows.js';
import { dec } from '../../src/decimal.js';
import type { Store } from '../../src/state/store.js';

// Every kind of scope, with names that would trip a prefix test done carelessly (`groupie`, `account:x`).
const SCOPES = [
  'account',
  'group:eng',
  'group:ops',
  'pool:eng',
  'pool:ops',
  'member:a@t.test',
  'member:b@t.test',
  'signup:a@t.test',
  'signup:z@t.test',
  'auto:eng',
  'carry:a@t.test',
  'carry-pool:eng',
  'carry-pool:ops',
];

async function sqlInt(store: Store, sql: string, scope: string): Promise<number> {
  const { rows } = await store.query<{ n: number }>(`SELECT ${sql}($1) AS n`, [scope]);
  return Number(rows[0]!.n);
}

// Members as the file declares them, and the grants each gets this cycle: capacity = allocation + extra + grants
// (src/ledger/capacities.ts), where a pooled member (no allocation) counts 0 of its own.
const MEMBERS = [
  { email: 'a@t.test', yaml: '{ allocation: 10 }', allocation: '10', extra: '0', grant: null },
  { email: 'b@t.test', yaml: '{ allocation: 5, extra: 2.5 }', allocation: '5', extra: '2.5', grant: '4' },
  { email: 'c@t.test', yaml: '{}', allocation: null, extra: '0', grant: null },
  { email: 'd@t.test', yaml: '{ extra: 3 }', allocation: null, extra: '3', grant: '1.25' },
] as const;

const file = `version: 1
account:
  id: acme
  creditLimit: 300
  creditFactor: 1
groups:
  eng:
    allocation: 100
    members:
${MEMBERS.map((m) => `      ${m.email}: ${m.yaml}`).join('\n')}
`;

describe.each(storeKinds)('constants shared by TypeScript and SQL on %s', (_kind, freshStore) => {
  it('slicesOf agrees with credits_slices for every kind of scope', async () => {
    const store = await freshStore();
    for (const scope of SCOPES) {
      expect([scope, await sqlInt(store, 'credits_slices', scope)]).toEqual([scope, slicesOf(scope)]);
    }
  });

  it('inLockOrder agrees with credits_lock_rank for every pair of scopes the SQL side locks', async () => {
    const store = await freshStore();
    // The SQL side never locks an auto-approve reserve (usage does not touch it), so its rank is not compared.
    const scopes = SCOPES.filter((s) => !s.startsWith('auto:'));
    const rank = new Map<string, number>();
    for (const s of scopes) rank.set(s, await sqlInt(store, 'credits_lock_rank', s));
    for (const a of scopes) {
      for (const b of scopes) {
        if (a === b) continue;
        const ra = rank.get(a)!;
        const rb = rank.get(b)!;
        // SQL orders by (rank, scope): a comes first when its rank is lower, or equal with a smaller name.
        const sqlFirst = ra < rb || (ra === rb && a < b) ? a : b;
        expect([a, b, inLockOrder([b, a])[0]]).toEqual([a, b, sqlFirst]);
      }
    }
    // And the one TS order, as a whole, is the SQL one.
    const bySql = [...scopes].sort((a, b) => rank.get(a)! - rank.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
    expect(inLockOrder([...scopes].reverse())).toEqual(bySql);
  });

  it('the member capacity rule: TypeScript, credits_member_capacity and the counters synced by apply agree', async () => {
    const store = await freshStore();
    await applyPlan(store, await makePlan(store, { bytes: file, file: 'acme.yaml' }), { actor: 't' });
    for (const m of MEMBERS) await recordUsage(store, { accountId: 'acme', member: m.email, credits: '0.5' });
    for (const m of MEMBERS.filter((x) => x.grant)) {
      const r = await createRequest(store, {
        accountId: 'acme',
        member: m.email,
        amount: m.grant!,
        reason: 'r',
      });
      await approveRequest(store, { accountId: 'acme', id: r.id, actor: 'admin' });
    }
    // An apply that changes budgets re-syncs every member counter set-wise (syncCapacities).
    await applyPlan(
      store,
      await makePlan(store, {
        bytes: file.replace('creditLimit: 300', 'creditLimit: 301'),
        file: 'acme.yaml',
      }),
      { actor: 't' },
    );
    const cycle = (await latestCycle(store, 'acme'))!.cycleNo;
    for (const m of MEMBERS) {
      const ts = dec(m.allocation ?? '0')
        .plus(m.extra)
        .plus(m.grant ?? '0');
      const { rows } = await store.query<{ fn: string; counter: string }>(
        `SELECT trim_scale(credits_member_capacity('acme', $1, $2))::text AS fn,
                (SELECT trim_scale(sum(capacity))::text FROM budget_counters
                  WHERE account_id = 'acme' AND cycle_no = $1 AND scope = 'member:' || $2) AS counter`,
        [cycle, m.email],
      );
      expect([m.email, dec(rows[0]!.fn).equals(ts), dec(rows[0]!.counter).equals(ts)]).toEqual([
        m.email,
        true,
        true,
      ]);
    }
  });
});
