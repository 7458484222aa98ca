// A budget cut below what is already used (an apply of a smaller credits.yaml, or admin PATCHes) must hold as
// the holds come back: a release, a settle for less or an expiry gives back used, but never reopens room
// above the new budget, even on sliced scopes (group, pool, account), and `credits verify` holds at every
// step. On both stores.
import { describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { editGroup, editMember, editSettings } from '../../src/apply/admin-edit.js';
import { recordUsage } from '../../src/ledger/usage.js';
import { expireHolds, release, reserve, settle } from '../../src/ledger/reservations.js';
import { ledgerTransaction } from '../../src/ledger/retry.js';
import { verifyLedger } from '../../src/ledger/verify.js';
import { migrate } from '../../src/state/migrate.js';
import type { Store } from '../../src/state/store.js';

const eng = ['a1', 'a2', 'a3'].map((m) => `${m}@acme.test`);
const ops = ['o1', 'o2', 'o3'].map((m) => `${m}@acme.test`);

const yaml = (limit: number, group: number, member: number) => `version: 1
account:
  id: acme
  creditLimit: ${limit}
  creditFactor: 1
groups:
  eng:
    allocation: ${group}
    members:
${eng.map((m) => `      ${m}: ${member}`).join('\n')}
  ops:
    allocation: ${group}
    members:
${ops.map((m) => `      ${m}: ${member}`).join('\n')}
  default:
    allocation: 0
`;

const spend = (store: Store, member: string, credits: string) =>
  recordUsage(store, { accountId: 'acme', member, credits }).then(
    () => 'accepted',
    (e: { code?: string; details?: { blockedBy?: string } }) =>
      e.code === 'BUDGET_EXCEEDED' ? `blocked by ${e.details?.blockedBy}` : Promise.reject(e),
  );

async function expectVerified(store: Store, step: string): Promise<void> {
  const { mismatches, shape } = await verifyLedger(store, 'acme');
  expect(mismatches, step).toEqual([]);
  expect(shape, step).toEqual([]);
}

const cuts = {
  'an apply of a smaller credits.yaml': async (store: Store) => {
    await applyPlan(store, await makePlan(store, { bytes: yaml(50, 25, 8), file: 'c.yaml' }), { actor: 't' });
    await expectVerified(store, 'after the apply');
  },
  'admin PATCHes': async (store: Store) => {
    for (const m of [...eng, ...ops]) {
      await editMember(store, 'acme', m, { allocation: '8' }, 'admin');
      await expectVerified(store, `after PATCH ${m}`);
    }
    for (const g of ['eng', 'ops']) {
      await editGroup(store, 'acme', g, { allocation: '25' }, 'admin');
      await expectVerified(store, `after PATCH group ${g}`);
    }
    await editSettings(store, 'acme', { creditLimit: '50' }, 'admin');
    await expectVerified(store, 'after PATCH creditLimit');
  },
};

describe.each(storeKinds)('budgets cut below use on %s', (_kind, freshStore) => {
  it.each(Object.keys(cuts))(
    'after %s, given-back holds reopen room only under the new budgets',
    async (how) => {
      const store = await freshStore();
      await applyPlan(store, await makePlan(store, { bytes: yaml(100, 50, 16), file: 'c.yaml' }), {
        actor: 't',
      });
      // Six holds of 15: each group has used 45 of 50, the account 90 of 100; each hold lands on some slice.
      // a3's and o3's expire first.
      const holds = new Map<string, string>();
      for (const m of [...eng, ...ops]) {
        const ttlSeconds = m === eng[2] || m === ops[2] ? 30 : 3600;
        const hold = await reserve(store, { accountId: 'acme', member: m, credits: '15', ttlSeconds });
        holds.set(m, hold.id);
      }
      await expectVerified(store, 'after the holds');

      // Cut: account 100 → 50, groups 50 → 25, members 16 → 8. Everything is over its budget now.
      await cuts[how as keyof typeof cuts](store);
      expect(await spend(store, eng[0]!, '0.000001')).toBe('blocked by member');

      // A release: eng has used 30 of 25, the account 75 of 50. a1 has room of its own, the group has none.
      await release(store, { accountId: 'acme', id: holds.get(eng[0]!)! });
      await expectVerified(store, 'after the release');
      expect(await spend(store, eng[0]!, '1')).toBe('blocked by group');

      // A settle for less (nothing): eng has used 15 of 25, the account 60 of 50.
      await settle(store, { accountId: 'acme', id: holds.get(eng[1]!)!, credits: '0' });
      await expectVerified(store, 'after the settle');
      expect(await spend(store, eng[0]!, '1')).toBe('blocked by account');

      // Two expiries at once (lazy; one refund per scope): eng has used 0, ops 30 of 25, the account 30 of 50.
      const later = new Date(Date.now() + 120_000);
      const expired = await ledgerTransaction(store, { accountId: 'acme' }, (tx) =>
        expireHolds(tx, 'acme', later),
      );
      expect(expired).toBe(2);
      await expectVerified(store, 'after the expiries');

      // Exactly the new budget minus what is used is spendable: 20 at the account level.
      expect(await spend(store, eng[0]!, '8')).toBe('accepted');
      expect(await spend(store, eng[1]!, '8')).toBe('accepted');
      expect(await spend(store, eng[2]!, '4.000001')).toBe('blocked by account');
      expect(await spend(store, eng[2]!, '4')).toBe('accepted');
      expect(await spend(store, eng[2]!, '0.000001')).toBe('blocked by account');
      await expectVerified(store, 'after spending the rest');
      const counted = await store.query<{ scope: string; used: string; capacity: string }>(
        `SELECT scope, sum(used) AS used, sum(capacity) AS capacity FROM budget_counters
        WHERE account_id = 'acme' AND scope IN ('account', 'group:eng', 'group:ops') GROUP BY 1 ORDER BY 1`,
      );
      // ops keeps an overhang of 5 (used 30, budget 25) until more of it is given back.
      expect(counted.rows.map((r) => [r.scope, Number(r.used), Number(r.capacity)])).toEqual([
        ['account', 50, 50],
        ['group:eng', 20, 25],
        ['group:ops', 30, 30],
      ]);
      // Giving back more than the overhang reopens room again, up to the budget: ops 15 of 25.
      await release(store, { accountId: 'acme', id: holds.get(ops[0]!)! });
      await expectVerified(store, 'after an ops release');
      expect(await spend(store, ops[0]!, '8')).toBe('accepted');
      expect(await spend(store, ops[0]!, '0.000001')).toBe('blocked by member');
      const ops0 = await store.query<{ used: string; capacity: string }>(
        `SELECT sum(used) AS used, sum(capacity) AS capacity FROM budget_counters
          WHERE account_id = 'acme' AND scope = 'group:ops'`,
      );
      expect([Number(ops0.rows[0]!.used), Number(ops0.rows[0]!.capacity)]).toEqual([23, 25]);
      await expectVerified(store, 'at the end');
    },
  );

  it('migration 015 gives a scope cut before it its overhang', async () => {
    const store = await freshStore();
    await applyPlan(store, await makePlan(store, { bytes: yaml(100, 50, 16), file: 'c.yaml' }), {
      actor: 't',
    });
    const holds: string[] = [];
    for (const m of [...eng, ...ops]) {
      holds.push((await reserve(store, { accountId: 'acme', member: m, credits: '15' })).id);
    }
    await applyPlan(store, await makePlan(store, { bytes: yaml(50, 25, 8), file: 'c.yaml' }), { actor: 't' });
    const overhangs = () =>
      store.query<{ scope: string; overhang: string }>(
        "SELECT scope, overhang::text FROM budget_overhangs WHERE account_id = 'acme' ORDER BY scope",
      );
    const cut = (await overhangs()).rows;
    expect(cut).toEqual([
      { scope: 'account', overhang: '40.000000' },
      { scope: 'group:eng', overhang: '20.000000' },
      { scope: 'group:ops', overhang: '20.000000' },
    ]);
    // The database as it was before migration 015, with the counters a cut left.
    await store.exec(
      'DROP FUNCTION credits_refund(text, bigint, text, numeric); DROP TABLE budget_overhangs; DELETE FROM schema_migrations WHERE version = 15',
    );
    await migrate(store);
    expect((await overhangs()).rows).toEqual(cut);
    await expectVerified(store, 'after the migration');
    await release(store, { accountId: 'acme', id: holds[0]! });
    expect(await spend(store, eng[0]!, '1')).toBe('blocked by group');
    await expectVerified(store, 'after a release');
  });
});
