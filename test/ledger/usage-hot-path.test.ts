// The cost of an accepted usage event once its account is warm: one round trip (the batch statement; no
// declared-state lock, no second transaction) and, in the database, no statement planned again. PL/pgSQL
// keeps a plan per statement and session; a statement PostgreSQL keeps no generic plan for is planned on
// every call, which on a batch of a few events was a tenth of the statement's time (docs/benchmarks.md).
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { pgWithConfig, storeKinds } from '../support/databases.js';
import { counting } from '../support/refusals.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { recordUsage } from '../../src/ledger/usage.js';
import type { Store } from '../../src/state/store.js';

const config = `version: 1
account:
  id: hot
  creditLimit: 100000
  creditFactor: 1
groups:
  eng:
    allocation: 50000
    members:
      alice@acme.test: 1000
      bob@acme.test: {}
      carol@acme.test: 1000
  default:
    allocation: 100
`;
const MEMBERS = ['alice@acme.test', 'bob@acme.test', 'carol@acme.test'];

/** The account applied and every member's counters made, as any first event of the cycle does. */
async function warm(store: Store): Promise<void> {
  await applyPlan(store, await makePlan(store, { bytes: config, file: 'credits.yaml' }), { actor: 'test' });
  for (const member of MEMBERS) await recordUsage(store, { accountId: 'hot', member, credits: '0' });
}

describe.each(storeKinds)('an accepted event on %s', (_kind, freshStore) => {
  it('costs one round trip: the batch statement, without a transaction of its own', async () => {
    const store = await freshStore();
    await warm(store);
    for (const [i, member] of MEMBERS.entries()) {
      const { store: counted, calls } = counting(store);
      const result = await recordUsage(counted, {
        accountId: 'hot',
        member,
        credits: '1.5',
        idempotencyKey: `k${i}`,
      });
      expect(result.charged).toBe(true);
      expect(calls).toEqual({ queries: 1, transactions: 0 });
    }
  });
});

describe('the batch statement on a warm session (PostgreSQL)', () => {
  let client: pg.Client | undefined;
  afterEach(async () => {
    await client?.end();
    client = undefined;
  });

  it('plans no statement again once its plans are cached', async () => {
    const { url, store } = await pgWithConfig(config);
    await warm(store);
    client = new pg.Client({ connectionString: url });
    await client.connect();
    // The planner reports each planning as a LOG message, sent to this client as a notice.
    const plannings: string[] = [];
    client.on('notice', (n) => {
      if (/PLANNER STATISTICS/.test(n.message ?? '')) plannings.push(n.message!);
    });
    await client.query('SET log_planner_stats = on');
    await client.query('SET client_min_messages = log');
    const perCall: number[] = [];
    for (let call = 0; call < 12; call++) {
      const events = MEMBERS.map((email, ord) => ({
        ord,
        email,
        credits: '1.5',
        key: `c${call}-${ord}`,
        hash: 'h',
        now: new Date().toISOString(),
      }));
      await client.query('BEGIN');
      const before = plannings.length;
      const { rows } = await client.query<{ r: { status: string }[] }>({
        name: 'batch',
        text: 'SELECT credits_record_usage_batch($1, $2::jsonb) AS r',
        values: ['hot', JSON.stringify(events)],
      });
      perCall.push(plannings.length - before);
      await client.query('ROLLBACK');
      // Every event settled by the fast path, the path a warm account's events take.
      expect(rows[0]!.r.map((o) => o.status)).toEqual(['ok', 'ok', 'ok']);
    }
    // PostgreSQL plans a statement afresh for its first five executions, then settles on a generic plan.
    expect(perCall.slice(8)).toEqual([0, 0, 0, 0]);
  });
});
