// After an apply changes budgets mid-cycle, every counter of the cycle gets its new capacity (members set in
// one statement): allocations raised and lowered (a member's exactly, even below what is used; a release
// then reopens room only under the new budget), grants kept, a removed member
// back to nothing of their own, groups and the account re-spread.
import { describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { recordUsage } from '../../src/ledger/usage.js';
import { approveRequest, createRequest } from '../../src/ledger/requests.js';
import { verifyLedger } from '../../src/ledger/verify.js';
import { memberView } from '../../src/ledger/balances.js';
import type { Store } from '../../src/state/store.js';

const file = (a: string, c: string, b = '      b@t.test: {}\n', eng = 100) => `version: 1
account:
  id: acme
  creditLimit: 300
  creditFactor: 1
groups:
  eng:
    allocation: ${eng}
    members:
      a@t.test: ${a}
${b}      c@t.test: ${c}
`;

const apply = async (store: Store, text: string) =>
  applyPlan(store, await makePlan(store, { bytes: text, file: 'acme.yaml' }), { actor: 't' });

async function capacities(store: Store) {
  const { rows } = await store.query<{ scope: string; capacity: string; used: string }>(
    `SELECT scope, trim_scale(sum(capacity))::text AS capacity, trim_scale(sum(used))::text AS used
       FROM budget_counters WHERE account_id = 'acme' AND cycle_no > 0 GROUP BY scope`,
  );
  return Object.fromEntries(rows.map((r) => [r.scope, [r.capacity, r.used]]));
}

describe.each(storeKinds)('capacities after an apply on %s', (_kind, freshStore) => {
  it('follow the file mid-cycle, a member’s even below what is used, grants kept', async () => {
    const store = await freshStore();
    await apply(store, file('10', '{ allocation: 5, extra: 2 }'));
    for (const [member, credits] of [
      ['a@t.test', '8'],
      ['b@t.test', '3'],
      ['c@t.test', '1'],
    ] as const) {
      await recordUsage(store, { accountId: 'acme', member, credits });
    }
    const request = await createRequest(store, {
      accountId: 'acme',
      member: 'c@t.test',
      amount: '4',
      reason: 'r',
    });
    await approveRequest(store, { accountId: 'acme', id: request.id, actor: 'admin' });
    expect((await capacities(store))['member:c@t.test']).toEqual(['11', '1']);

    // a lowered below its use, c raised, b removed from the file (back to Default), eng raised.
    await apply(store, file('6', '{ allocation: 20, extra: 2 }', '', 150));
    const after = await capacities(store);
    expect(after['member:a@t.test']).toEqual(['6', '8']);
    expect(after['member:c@t.test']).toEqual(['26', '1']);
    expect(after['member:b@t.test']).toEqual(['0', '0']);
    expect(after['group:eng']![0]).toBe('150');
    expect(after['account']![0]).toBe('300');
    await expect(
      recordUsage(store, { accountId: 'acme', member: 'a@t.test', credits: '1' }),
    ).rejects.toMatchObject({
      code: 'BUDGET_EXCEEDED',
    });
    expect((await recordUsage(store, { accountId: 'acme', member: 'c@t.test', credits: '20' })).credits).toBe(
      '20',
    );
    expect((await verifyLedger(store, 'acme')).mismatches).toEqual([]);
    await store.close();
  });

  it('a member with no usage yet this cycle (no counters) can spend their whole allowance', async () => {
    const store = await freshStore();
    await apply(store, file('10', '{ allocation: 5, extra: 2 }'));
    const now = new Date();
    expect((await memberView(store, 'acme', 'a@t.test', now)).remaining).toEqual({
      member: '10',
      group: '100',
      account: '300',
      rolledOver: '0',
    });
    expect((await memberView(store, 'acme', 'b@t.test', now)).remaining.member).toBe('83'); // the pool
    await recordUsage(store, { accountId: 'acme', member: 'c@t.test', credits: '1' }); // counters now exist
    expect((await memberView(store, 'acme', 'a@t.test', now)).remaining.member).toBe('10');
    expect((await memberView(store, 'acme', 'c@t.test', now)).remaining).toEqual({
      member: '6',
      group: '99',
      account: '299',
      rolledOver: '0',
    });
    await store.close();
  });
});
