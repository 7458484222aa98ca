// A refused reservation or settle answers what remains, like a refused usage event (it used to say
// `remaining: {}`), and the refusal changes nothing. On both stores.
import { describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { recordUsage } from '../../src/ledger/usage.js';
import { reserve, settle } from '../../src/ledger/reservations.js';
import { verifyLedger } from '../../src/ledger/verify.js';

const yaml = `version: 1
account:
  id: acme
  creditLimit: 1000
  creditFactor: 1
groups:
  eng:
    allocation: 300
    members:
      alice@acme.test: 100
  default:
    allocation: 100
`;

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: { code?: string; details?: Record<string, unknown> }) => e,
  );

describe.each(storeKinds)('refused holds on %s', (_kind, freshStore) => {
  it('a reservation and a settle over budget say what remains, and change nothing', async () => {
    const store = await freshStore();
    await applyPlan(store, await makePlan(store, { bytes: yaml, file: 'c.yaml' }), { actor: 't' });
    await recordUsage(store, { accountId: 'acme', member: 'alice@acme.test', credits: '30' });
    const usageRefusal = await refusal(
      recordUsage(store, { accountId: 'acme', member: 'alice@acme.test', credits: '500' }),
    );
    const expected = { member: '70', group: '270', account: '970' };
    expect(usageRefusal?.details).toMatchObject({ blockedBy: 'member', remaining: expected });

    const reserveRefusal = await refusal(
      reserve(store, { accountId: 'acme', member: 'alice@acme.test', credits: '500' }),
    );
    expect(reserveRefusal).toMatchObject({
      code: 'BUDGET_EXCEEDED',
      details: { blockedBy: 'member', remaining: expected },
    });

    const hold = await reserve(store, { accountId: 'acme', member: 'alice@acme.test', credits: '20' });
    const settleRefusal = await refusal(settle(store, { accountId: 'acme', id: hold.id, credits: '400' }));
    expect(settleRefusal).toMatchObject({
      code: 'BUDGET_EXCEEDED',
      details: { blockedBy: 'member', remaining: { member: '50', group: '250', account: '950' } },
    });
    // The hold is still held, for what it was, and the ledger adds up.
    expect(await settle(store, { accountId: 'acme', id: hold.id, credits: '20' })).toMatchObject({
      status: 'settled',
    });
    expect((await verifyLedger(store, 'acme')).mismatches).toEqual([]);
  });
});
