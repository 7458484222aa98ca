// The race: 64 concurrent writers spending against one member, one group and one account near their limits,
// with reservations, settles, releases and duplicate idempotency keys mixed in. Afterwards no level is over
// its budget and every counter equals the sum of its ledger entries.
import { describe, expect, it } from 'vitest';
import { freshPgStore } from '../support/databases.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { recordUsage } from '../../src/ledger/usage.js';
import { reserve, settle, release } from '../../src/ledger/reservations.js';
import { createRequest } from '../../src/ledger/requests.js';
import { signup } from '../../src/ledger/signup.js';
import { verifyLedger } from '../../src/ledger/verify.js';
import { syncCapacities } from '../../src/ledger/capacities.js';
import { latestCycle } from '../../src/ledger/cycle-rows.js';
import { dec } from '../../src/decimal.js';
import { isCreditsError } from '../../src/errors.js';
import type { Store } from '../../src/state/store.js';

const config = `version: 1
account:
  id: race
  creditLimit: 2000
  creditFactor: 1
  signupCredits: 5
groups:
  eng:
    allocation: 900
    autoApprove: 40
    members:
      solo@race.test: 120
      pool1@race.test: {}
      pool2@race.test: {}
      pool3@race.test: {}
  ops:
    allocation: 700
    members:
      ops1@race.test: {}
      ops2@race.test: {}
  default:
    allocation: 100
`;

async function usedBy(store: Store, level: string): Promise<string> {
  const { rows } = await store.query<{ used: string | null }>(
    `SELECT sum(c.value::numeric) AS used FROM ledger_entries e, jsonb_each_text(e.charges) c(key, value)
      WHERE e.account_id = 'race' AND c.key = $1`,
    [level],
  );
  return rows[0]!.used ?? '0';
}

describe('ledger race (PostgreSQL)', () => {
  it('64 writers never overspend any level, and ledger sums equal counters', async () => {
    const store = await freshPgStore({ max: 70 });
    await applyPlan(store, await makePlan(store, { bytes: config, file: 'race.yaml' }), { actor: 'race' });
    // An admin lowers the account limit below the groups' sum, so the account is the binding level too.
    await store.query("UPDATE accounts SET credit_limit = 1000 WHERE account_id = 'race'");
    const cycle = (await latestCycle(store, 'race'))!;
    await syncCapacities(store, 'race', cycle.cycleNo);
    const members = ['solo', 'pool1', 'pool2', 'pool3', 'ops1', 'ops2'].map((m) => `${m}@race.test`);
    for (const email of members) await signup(store, { accountId: 'race', email });

    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const outcomes = { ok: 0, blocked: 0, conflict: 0, pendingFull: 0 };
    const op = async (i: number): Promise<void> => {
      const member = members[Math.floor(random() * members.length)]!;
      const credits = String(1 + Math.floor(random() * 15));
      const r = random();
      try {
        if (r < 0.6) {
          // Every 10th key is shared by two writers: a duplicate in flight or a replay.
          const key = i % 10 === 0 ? `k${Math.floor(i / 20)}` : `u${i}`;
          await recordUsage(store, { accountId: 'race', member, credits, idempotencyKey: key });
        } else if (r < 0.9) {
          const hold = await reserve(store, { accountId: 'race', member, credits, ttlSeconds: 60 });
          if (random() < 0.6)
            await settle(store, {
              accountId: 'race',
              id: hold.id,
              credits: String(Math.floor(random() * 20)),
            });
          else await release(store, { accountId: 'race', id: hold.id });
        } else {
          await createRequest(store, {
            accountId: 'race',
            member,
            amount: String(1 + Math.floor(random() * 5)),
            reason: 'more',
          });
        }
        outcomes.ok++;
      } catch (err) {
        if (!isCreditsError(err)) throw err;
        if (err.code === 'BUDGET_EXCEEDED') outcomes.blocked++;
        else if (['IDEMPOTENCY_IN_FLIGHT', 'IDEMPOTENCY_KEY_REUSED'].includes(err.code)) outcomes.conflict++;
        // Nobody decides requests here, so members reach the bound on pending ones.
        else if (err.code === 'TOO_MANY_PENDING_REQUESTS') outcomes.pendingFull++;
        else throw err;
      }
    };
    const total = 3000;
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < total) await op(next++);
      }),
    );
    expect(outcomes.ok + outcomes.blocked + outcomes.conflict + outcomes.pendingFull).toBe(total);
    expect(outcomes.blocked).toBeGreaterThan(0); // the budgets were actually reached

    // No level over its budget: solo's allowance (120 + grants), the pools, the groups, the account.
    const grants = await store.query<{ member_email: string; g: string }>(
      "SELECT member_email, sum(credits) AS g FROM ledger_entries WHERE account_id = 'race' AND kind = 'grant' GROUP BY 1",
    );
    const soloGrants = grants.rows.find((r) => r.member_email === 'solo@race.test')?.g ?? '0';
    expect(
      dec(await usedBy(store, 'member:solo@race.test')).lessThanOrEqualTo(dec(120).plus(soloGrants)),
    ).toBe(true);
    expect(dec(await usedBy(store, 'group:eng')).lessThanOrEqualTo(900)).toBe(true);
    expect(dec(await usedBy(store, 'group:ops')).lessThanOrEqualTo(700)).toBe(true);
    expect(dec(await usedBy(store, 'pool:eng')).lessThanOrEqualTo(900 - 120)).toBe(true);
    expect(dec(await usedBy(store, 'account')).lessThanOrEqualTo(1000)).toBe(true);
    expect(dec(await usedBy(store, 'auto:eng')).lessThanOrEqualTo(40)).toBe(true);
    for (const m of members) expect(dec(await usedBy(store, `signup:${m}`)).lessThanOrEqualTo(5)).toBe(true);

    const check = await verifyLedger(store, 'race');
    expect(check.mismatches, JSON.stringify(check.mismatches)).toEqual([]);
    expect(check.checked).toBeGreaterThan(10);
  }, 180_000);
});
