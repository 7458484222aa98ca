// Holds that expire together are given back in one refund per scope. On a sliced scope (account, group,
// pool) their charges sat on different slices, so the merged refund can be more than any one slice has used:
// it must be spread over the slices, so that no slice's used goes below zero, while the scope's totals stay
// exact and `credits verify` holds. On both stores.
import { describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { expireHolds, reserve } from '../../src/ledger/reservations.js';
import { ledgerTransaction } from '../../src/ledger/retry.js';
import { verifyLedger } from '../../src/ledger/verify.js';
import type { Store } from '../../src/state/store.js';

const members = Array.from({ length: 12 }, (_, i) => `m${i}@acme.test`);
const config = (limit: number, group: number, member: number) => `version: 1
account:
  id: acme
  creditLimit: ${limit}
  creditFactor: 1
groups:
  eng:
    allocation: ${group}
    members:
${members.map((m) => `      ${m}: ${member}`).join('\n')}
  default:
    allocation: 0
`;
const yaml = config(1000000, 500000, 1000);

/** Per sliced scope: the lowest used of a slice, and the scope's total used. */
const slices = async (store: Store) =>
  (
    await store.query<{ scope: string; lowest: string; used: string }>(
      `SELECT scope, min(used)::text AS lowest, sum(used)::text AS used FROM budget_counters
        WHERE account_id = 'acme' AND scope IN ('account', 'group:eng', 'pool:eng') GROUP BY scope ORDER BY scope`,
    )
  ).rows;

describe.each(storeKinds)('a merged refund on %s', (_kind, freshStore) => {
  it('is spread over the slices: no slice goes below zero, the totals stay exact', async () => {
    const store = await freshStore();
    await applyPlan(store, await makePlan(store, { bytes: yaml, file: 'c.yaml' }), { actor: 't' });
    const t0 = new Date();
    // Twelve holds of 50 land on random slices of the account (64) and the group (16): the merged refund of
    // 600 is far more than the fullest slice holds, unless every hold landed on the same slice.
    for (const member of members) {
      await reserve(store, { accountId: 'acme', member, credits: '50', ttlSeconds: 1, now: t0 });
    }
    const before = await slices(store);
    expect(before.map((s) => [s.scope, Number(s.used)])).toEqual([
      ['account', 600],
      ['group:eng', 600],
      ['pool:eng', 0],
    ]);
    const later = new Date(t0.getTime() + 2000);
    const expired = await ledgerTransaction(store, { accountId: 'acme' }, (tx) =>
      expireHolds(tx, 'acme', later),
    );
    expect(expired).toBe(12);
    const after = await slices(store);
    for (const s of after) {
      expect(Number(s.used), s.scope).toBe(0);
      expect(Number(s.lowest), s.scope).toBe(0);
    }
    expect(await verifyLedger(store, 'acme')).toMatchObject({ mismatches: [], shape: [] });
  });

  it('after a cut below use, spreads the overhang trim too: no slice below its used or zero', async () => {
    const store = await freshStore();
    await applyPlan(store, await makePlan(store, { bytes: yaml, file: 'c.yaml' }), { actor: 't' });
    const t0 = new Date();
    for (const member of members) {
      await reserve(store, { accountId: 'acme', member, credits: '50', ttlSeconds: 1, now: t0 });
    }
    // The account and the group cut to 100 while 600 is held: overhangs of 500, every slice full.
    await applyPlan(store, await makePlan(store, { bytes: config(100, 100, 8), file: 'c.yaml' }), {
      actor: 't',
    });
    expect(await verifyLedger(store, 'acme')).toMatchObject({ mismatches: [], shape: [] });
    await ledgerTransaction(store, { accountId: 'acme' }, (tx) =>
      expireHolds(tx, 'acme', new Date(t0.getTime() + 2000)),
    );
    const { rows } = await store.query<{ scope: string; lowest: string; free: string; capacity: string }>(
      `SELECT scope, min(used)::text AS lowest, min(capacity - used)::text AS free,
              sum(capacity)::text AS capacity
         FROM budget_counters WHERE account_id = 'acme' AND scope IN ('account', 'group:eng')
        GROUP BY scope ORDER BY scope`,
    );
    // All given back: no slice below zero or its used, and the capacity is the new budget, no overhang left.
    expect(rows.map((r) => [r.scope, Number(r.lowest), Number(r.free) >= 0, Number(r.capacity)])).toEqual([
      ['account', 0, true, 100],
      ['group:eng', 0, true, 100],
    ]);
    expect(await verifyLedger(store, 'acme')).toMatchObject({ mismatches: [], shape: [] });
  });
});
