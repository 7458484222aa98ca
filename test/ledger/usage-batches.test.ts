// A batch of usage events must answer exactly what the spending rule gives them one at a time: the same
// outcomes, the same charges, the same "remaining" after each event, the same counters. The reference is
// SQL credits_record_usage called once per event (and, for a refusal, TypeScript's remainingFor); the batch is
// credits_record_usage_batch (its set-wise fast path, and its one-by-one path when a budget runs short), on
// both stores.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { storeKinds } from '../support/databases.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { recordUsage } from '../../src/ledger/usage.js';
import { signup } from '../../src/ledger/signup.js';
import { syncCapacities } from '../../src/ledger/capacities.js';
import { latestCycle } from '../../src/ledger/cycle-rows.js';
import { verifyLedger } from '../../src/ledger/verify.js';
import { remainingFor, spendContext } from '../../src/ledger/spend.js';
import type { Store } from '../../src/state/store.js';

const MEMBERS = ['own@t.test', 'extra@t.test', 'pool1@t.test', 'pool2@t.test', 'ops@t.test'];

// `scale` multiplies every budget: at 10 a batch's slices of the group and account have room for small
// events, so batches with refusals in them take the fast path.
const config = (id: string, factor: string, scale: number) => `version: 1
account:
  id: ${id}
  creditLimit: ${170 * scale}
  creditFactor: ${factor}
  signupCredits: ${6 * scale}
groups:
  eng:
    allocation: ${120 * scale}
    members:
      own@t.test: ${25 * scale}
      extra@t.test: { allocation: ${10 * scale}, extra: ${4 * scale} }
      pool1@t.test: {}
      pool2@t.test: {}
  ops:
    allocation: ${50 * scale}
    members:
      ops@t.test: {}
`;

interface UsageEvent {
  email: string;
  credits: string | null;
  cost: string | null;
  key: string | null;
}

const eventArb: fc.Arbitrary<UsageEvent> = fc
  .record({
    email: fc.constantFrom(...MEMBERS),
    amount: fc.constantFrom('0', '0.5', '1', '2.25', '3', '7', '12.125', '30', '120', '450'),
    dollars: fc.boolean(),
    key: fc.option(fc.constantFrom('k1', 'k2', 'k3', 'k4', 'k5', 'k6'), { freq: 2 }),
  })
  .map(({ email, amount, dollars, key }) => ({
    email,
    credits: dollars ? null : amount,
    cost: dollars ? amount : null,
    key,
  }));

const row = (e: UsageEvent, ord: number) => ({
  ord,
  ...e,
  model: 'm',
  metadata: null,
  hash: JSON.stringify(e),
  now: new Date().toISOString(),
});

async function setUpAccount(store: Store, id: string, factor: string, scale = 1): Promise<void> {
  await applyPlan(store, await makePlan(store, { bytes: config(id, factor, scale), file: `${id}.yaml` }), {
    actor: 'test',
  });
  // An admin lowers the limit below the groups' sum, so that the account binds too.
  await store.query('UPDATE accounts SET credit_limit = $2 WHERE account_id = $1', [id, 140 * scale]);
  await syncCapacities(store, id, (await latestCycle(store, id))!.cycleNo);
  // Counters for every member (a zero-credit event creates them) and signup credits for two of them.
  for (const email of MEMBERS) await recordUsage(store, { accountId: id, member: email, credits: '0' });
  for (const email of ['own@t.test', 'pool2@t.test']) await signup(store, { accountId: id, email });
}

/** Outcomes without entry ids, which differ between the two accounts. */
const comparable = (outcome: Record<string, unknown>) => {
  const result = outcome.result as Record<string, unknown> | undefined;
  if (!result) return outcome;
  const { id: _id, ...rest } = result;
  return { ...outcome, result: rest };
};

async function oneByOne(store: Store, account: string, events: UsageEvent[]) {
  const outcomes = [];
  for (const [ord, e] of events.entries()) {
    const r = row(e, ord);
    try {
      const { rows } = await store.query<{ o: Record<string, unknown> }>(
        'SELECT credits_record_usage($1, $2, $3, $4, $5, $6, $7, $8, $9) AS o',
        [account, r.email, r.credits, r.cost, r.model, r.metadata, r.key, r.hash, r.now],
      );
      outcomes.push(rows[0]!.o);
    } catch (err) {
      const level = /BUDGET_EXCEEDED:(\w+)/.exec((err as Error).message)?.[1];
      if (!level) throw err;
      // What remains, read as a separate transaction did before refusals carried it (TypeScript's rule).
      const ctx = await store.transaction((tx) => spendContext(tx, account, r.email, new Date()));
      outcomes.push({ status: 'blocked', level, remaining: await remainingFor(store, ctx) });
    }
  }
  return outcomes;
}

async function batched(store: Store, account: string, events: UsageEvent[]) {
  const { rows } = await store.query<{ o: Record<string, unknown>[] }>(
    'SELECT credits_record_usage_batch($1, $2::jsonb) AS o',
    [account, JSON.stringify(events.map(row))],
  );
  return rows[0]!.o;
}

async function counters(store: Store, account: string) {
  const { rows } = await store.query<{ scope: string; used: string }>(
    `SELECT scope, trim_scale(sum(used))::text AS used FROM budget_counters WHERE account_id = $1
      GROUP BY scope ORDER BY scope`,
    [account],
  );
  return rows;
}

describe.each(storeKinds)('usage batches on %s', (kind, freshStore) => {
  let store: Store;
  let n = 0;
  beforeAll(async () => {
    store = await freshStore();
  });
  afterAll(async () => {
    await store.close();
  });

  it('a batch answers what the events one at a time answer, and leaves the same counters', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 1, maxLength: 24 }),
        fc.constantFrom('1', '0.5', '0'),
        fc.constantFrom(1, 10),
        // Spending before the batch, one event at a time, so that groups and the account run short too.
        fc.array(eventArb, { maxLength: 12 }),
        async (events, factor, scale, before) => {
          const [reference, subject] = [`ref${n}`, `bat${n}`];
          n++;
          for (const account of [reference, subject]) {
            await setUpAccount(store, account, factor, scale);
            await oneByOne(store, account, before);
          }
          const expected = await oneByOne(store, reference, events);
          const actual = await batched(store, subject, events);
          expect(actual.map(comparable)).toEqual(expected.map(comparable));
          expect(await counters(store, subject)).toEqual(await counters(store, reference));
          expect((await verifyLedger(store, subject)).mismatches).toEqual([]);
        },
      ),
      { numRuns: kind === 'postgres' ? 40 : 15 },
    );
  }, 240_000);

  it('events sent together share batches, and one event the server refuses fails alone', async () => {
    await setUpAccount(store, 'mixed', '1');
    const good = [...MEMBERS, ...MEMBERS, ...MEMBERS].map((member) =>
      recordUsage(store, { accountId: 'mixed', member, credits: '1' }),
    );
    // Not a number (the API's schema would have refused it): the server refuses it, which must not take its
    // neighbours in the same batch down with it.
    const bad = recordUsage(store, { accountId: 'mixed', member: MEMBERS[0]!, credits: 'twelve' });
    const results = await Promise.allSettled([...good, bad]);
    expect(results.slice(0, -1).every((r) => r.status === 'fulfilled')).toBe(true);
    const last = results.at(-1)!;
    expect(last.status).toBe('rejected');
    const reason = (last as PromiseRejectedResult).reason as { code?: string };
    expect(reason.code).not.toBe('BUDGET_EXCEEDED');
    expect((await verifyLedger(store, 'mixed')).mismatches).toEqual([]);
  });

  it("a client's key spelled like the ledger's own signup key neither fails nor blocks the signup grant", async () => {
    await setUpAccount(store, 'keys', '1');
    const first = await recordUsage(store, {
      accountId: 'keys',
      member: 'extra@t.test',
      credits: '1',
      idempotencyKey: 'signup:extra@t.test',
    });
    expect(first.credits).toBe('1');
    expect((await signup(store, { accountId: 'keys', email: 'extra@t.test' })).signupCredits).toBe('6');
    // own@t.test has had its signup credits (setUpAccount): its signup key is taken in the ledger.
    const second = await recordUsage(store, {
      accountId: 'keys',
      member: 'own@t.test',
      credits: '1',
      idempotencyKey: 'signup:own@t.test',
    });
    expect(second.credits).toBe('1');
    expect((await verifyLedger(store, 'keys')).mismatches).toEqual([]);
  });
});
