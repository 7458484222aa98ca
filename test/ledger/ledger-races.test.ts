// Interleavings that once broke `credits verify` or answered 500, one test each: a hold settled after its
// cycle rolled over, a grant approved while an admin edits the member, concurrent cycle resets, and the
// shape of the counters (capacities and slices) that verify now proves.
import { describe, expect, it } from 'vitest';
import { freshPgStore, storeKinds } from '../support/databases.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { recordUsage } from '../../src/ledger/usage.js';
import { release, reserve, settle } from '../../src/ledger/reservations.js';
import { approveRequest, createRequest } from '../../src/ledger/requests.js';
import { verifyLedger } from '../../src/ledger/verify.js';
import { resetCycle } from '../../src/ledger/reset-cycle.js';
import { editMember } from '../../src/apply/admin-edit.js';
import { dec } from '../../src/decimal.js';
import type { Store } from '../../src/state/store.js';

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
    autoApprove: 0
    members:
      alice@acme.test: 100
      bob@acme.test: {}
  default:
    allocation: 100
`;

async function setUp(store: Store): Promise<void> {
  await applyPlan(store, await makePlan(store, { bytes: config, file: 'acme.yaml', now: T0 }), {
    actor: 'test',
    now: T0,
  });
}

/** The member counter's capacity in the latest cycle, and what it derives from. */
async function memberCapacity(store: Store, email: string) {
  const { rows } = await store.query<{ capacity: string; wanted: string }>(
    `SELECT c.capacity,
            coalesce(m.allocation, 0) + m.extra
            + coalesce((SELECT sum(e.credits) FROM ledger_entries e WHERE e.account_id = c.account_id
                         AND e.cycle_no = c.cycle_no AND e.member_email = m.email AND e.kind = 'grant'), 0)
              AS wanted
       FROM budget_counters c JOIN members m ON m.account_id = c.account_id AND 'member:' || m.email = c.scope
      WHERE c.account_id = 'acme' AND c.scope = $1
        AND c.cycle_no = (SELECT max(cycle_no) FROM cycles WHERE account_id = 'acme')`,
    [`member:${email}`],
  );
  return rows[0]!;
}

describe.each(storeKinds)('a hold settled after its cycle rolled over, on %s', (_kind, freshStore) => {
  it('charges the extra to the hold’s cycle, where the usage is recorded', async () => {
    const store = await freshStore();
    await setUp(store);
    const hold = await reserve(store, {
      accountId: 'acme',
      member: 'alice@acme.test',
      credits: '10',
      now: at(10),
    });
    // The cycle rolls over (1 minute) and a new one is in use before the hold is settled for more.
    await recordUsage(store, { accountId: 'acme', member: 'alice@acme.test', credits: '1', now: at(65) });
    const settled = await settle(store, { accountId: 'acme', id: hold.id, credits: '25', now: at(70) });
    expect(settled.status).toBe('settled');
    const check = await verifyLedger(store, 'acme');
    expect(check.mismatches).toEqual([]);
    const usage = await store.query<{ cycle_no: string; credits: string }>(
      "SELECT cycle_no, credits FROM ledger_entries WHERE kind = 'usage' AND reservation_id = $1",
      [hold.id],
    );
    expect(usage.rows).toEqual([{ cycle_no: '1', credits: '25.000000' }]);
    // The new cycle carries only its own usage.
    const used = await store.query<{ used: string }>(
      "SELECT sum(used) AS used FROM budget_counters WHERE account_id = 'acme' AND cycle_no = 2 AND scope = 'account'",
    );
    expect(dec(used.rows[0]!.used).equals(1)).toBe(true);
  });
});

describe('races on PostgreSQL', () => {
  it('a grant approved while an admin edits the member stays in the member’s capacity', async () => {
    const store = await freshPgStore({ max: 8 });
    await setUp(store);
    await recordUsage(store, { accountId: 'acme', member: 'alice@acme.test', credits: '1', now: at(1) });
    let lost = 0;
    for (let i = 0; i < 40; i++) {
      const request = await createRequest(store, {
        accountId: 'acme',
        member: 'alice@acme.test',
        amount: '1',
        reason: 'race',
        now: at(2),
      });
      await Promise.all([
        approveRequest(store, { accountId: 'acme', id: request.id, actor: 'admin', now: at(3) }),
        editMember(store, 'acme', 'alice@acme.test', { extra: String(i % 2) }, 'admin'),
      ]);
      const { capacity, wanted } = await memberCapacity(store, 'alice@acme.test');
      if (!dec(capacity).equals(wanted)) lost++;
    }
    expect(lost).toBe(0);
    expect((await verifyLedger(store, 'acme')).mismatches).toEqual([]);
  }, 60_000);

  it('concurrent resets never make a cycle that ends before it starts', async () => {
    const store = await freshPgStore({ max: 24 });
    await setUp(store);
    for (let round = 0; round < 5; round++) {
      // Twenty resets whose clocks differ by a few milliseconds, racing for the account.
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          resetCycle(store, { accountId: 'acme', now: at(round * 10 + 1 + ((i * 7) % 20) / 1000) }),
        ),
      );
    }
    const { rows } = await store.query<{ cycle_no: string; starts_at: Date; ends_at: Date }>(
      "SELECT cycle_no, starts_at, ends_at FROM cycles WHERE account_id = 'acme' ORDER BY cycle_no",
    );
    for (const [i, c] of rows.entries()) {
      expect(c.ends_at.getTime(), `cycle ${c.cycle_no}`).toBeGreaterThan(c.starts_at.getTime());
      const next = rows[i + 1];
      if (next) expect(next.starts_at.getTime()).toBeGreaterThanOrEqual(c.ends_at.getTime());
    }
  }, 60_000);
});

describe.each(storeKinds)('verify proves the counters’ shape, on %s', (_kind, freshStore) => {
  it('finds a capacity that is not its budget, a missing or extra slice, and a cycle that ends before it starts', async () => {
    const store = await freshStore();
    await setUp(store);
    await recordUsage(store, { accountId: 'acme', member: 'alice@acme.test', credits: '5', now: at(1) });
    await recordUsage(store, { accountId: 'acme', member: 'bob@acme.test', credits: '5', now: at(2) });
    const request = await createRequest(store, {
      accountId: 'acme',
      member: 'alice@acme.test',
      amount: '3',
      reason: 'x',
      now: at(3),
    });
    await approveRequest(store, { accountId: 'acme', id: request.id, actor: 'admin', now: at(4) });
    await editMember(store, 'acme', 'alice@acme.test', { extra: '7' }, 'admin');
    const clean = await verifyLedger(store, 'acme');
    expect(clean.mismatches).toEqual([]);
    expect(clean.shape).toEqual([]);

    await store.query(
      "UPDATE budget_counters SET capacity = capacity + 1 WHERE scope = 'member:alice@acme.test'",
    );
    await store.query("DELETE FROM budget_counters WHERE scope = 'group:eng' AND slice = 15");
    await store.query(
      "INSERT INTO budget_counters (account_id, cycle_no, scope, slice, capacity) VALUES ('acme', 1, 'account', 64, 0)",
    );
    await store.query("UPDATE cycles SET ends_at = starts_at - interval '1 second' WHERE cycle_no = 1");
    const { shape } = await verifyLedger(store, 'acme');
    const scopes = shape.map((p) => p.scope).sort();
    // group:eng also loses the capacity of its deleted slice.
    expect(scopes).toEqual(['account', 'cycle', 'group:eng', 'group:eng', 'member:alice@acme.test']);
  });
});

describe.each(storeKinds)('a member budget lowered below what is held, on %s', (_kind, freshStore) => {
  it('gives no room above the new budget when the hold is released', async () => {
    const store = await freshStore();
    await setUp(store);
    const hold = await reserve(store, {
      accountId: 'acme',
      member: 'alice@acme.test',
      credits: '60',
      now: at(1),
    });
    await recordUsage(store, { accountId: 'acme', member: 'alice@acme.test', credits: '30', now: at(2) });
    await editMember(store, 'acme', 'alice@acme.test', { allocation: '50' }, 'admin');
    await release(store, { accountId: 'acme', id: hold.id });
    // 30 used of 50: 20 left, not the 60 the hold had taken.
    const refused = await recordUsage(store, {
      accountId: 'acme',
      member: 'alice@acme.test',
      credits: '21',
      now: at(3),
    }).catch((e: { code: string }) => e.code);
    expect(refused).toBe('BUDGET_EXCEEDED');
    await recordUsage(store, { accountId: 'acme', member: 'alice@acme.test', credits: '20', now: at(4) });
    const check = await verifyLedger(store, 'acme');
    expect(check.mismatches).toEqual([]);
    expect(check.shape).toEqual([]);
  });
});
