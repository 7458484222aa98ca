// docs/ledger.md, Cycles: only cycles that saw a write have a row, so after an idle gap cycle 2's row is
// followed by cycle 5's; the skipped cycles' windows follow from the anchor, rows never overlap, and
// `credits verify` finds nothing wrong. On both stores.
import { describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { recordUsage } from '../../src/ledger/usage.js';
import { verifyLedger } from '../../src/ledger/verify.js';

const T0 = new Date('2030-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

const config = `version: 1
account:
  id: acme
  creditLimit: 1000
  creditFactor: 1
  cycle:
    cadence: 1m
groups:
  eng:
    allocation: 600
    members:
      alice@acme.test: 100
`;

describe.each(storeKinds)('cycle rows after an idle gap, on %s', (_kind, freshStore) => {
  it('exist only for cycles that saw a write, numbered by the anchor, and verify holds', async () => {
    const store = await freshStore();
    await applyPlan(store, await makePlan(store, { bytes: config, file: 'acme.yaml', now: T0 }), {
      actor: 'test',
      now: T0,
    });
    const use = (seconds: number) =>
      recordUsage(store, { accountId: 'acme', member: 'alice@acme.test', credits: '1', now: at(seconds) });
    await use(10); // cycle 1
    await use(70); // cycle 2
    await use(4 * 60 + 30); // cycles 3 and 4 were idle: cycle 5

    const { rows } = await store.query<{ cycle_no: string; starts_at: Date; ends_at: Date; reason: string }>(
      "SELECT cycle_no, starts_at, ends_at, reason FROM cycles WHERE account_id = 'acme' ORDER BY cycle_no",
    );
    expect(
      rows.map((r) => [
        Number(r.cycle_no),
        new Date(r.starts_at).toISOString(),
        new Date(r.ends_at).toISOString(),
        r.reason,
      ]),
    ).toEqual([
      [1, at(0).toISOString(), at(60).toISOString(), 'created'],
      [2, at(60).toISOString(), at(120).toISOString(), 'rollover'],
      [5, at(240).toISOString(), at(300).toISOString(), 'rollover'],
    ]);
    const check = await verifyLedger(store, 'acme');
    expect(check.mismatches).toEqual([]);
    expect(check.shape).toEqual([]);
    await store.close();
  });
});
