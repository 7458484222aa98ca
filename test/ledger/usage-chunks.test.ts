// Many events of one request (POST /v1/usage/batch) in a few statements: 1,000 events are four statements of
// the fast path alone (chunks of 250), on both stores; a chunk the fast path does not settle (keys seen
// before) goes through the one-by-one batches and still charges each event once.
import { describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { counting } from '../support/refusals.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { recordUsage, usageEvent } from '../../src/ledger/usage.js';
import { CHUNK, recordUsageEvents } from '../../src/ledger/usage-chunks.js';
import { verifyLedger } from '../../src/ledger/verify.js';

const config = `version: 1
account:
  id: chunks
  creditLimit: 100000
  creditFactor: 1
groups:
  eng:
    allocation: 50000
    members:
      a@c.test: 10000
      b@c.test: {}
  default:
    allocation: 100
`;

describe.each(storeKinds)('usage chunks on %s', (_kind, freshStore) => {
  it('records 1,000 events in four statements, and a resent batch charges nothing again', async () => {
    const store = await freshStore();
    await applyPlan(store, await makePlan(store, { bytes: config, file: 'c.yaml' }), { actor: 'test' });
    // The cycle's counters exist once its first event is recorded.
    await recordUsage(store, { accountId: 'chunks', member: 'a@c.test', credits: '1' });
    const now = new Date();
    const events = Array.from({ length: 1000 }, (_, i) =>
      usageEvent({
        accountId: 'chunks',
        member: i % 2 ? 'a@c.test' : 'b@c.test',
        credits: '0.5',
        idempotencyKey: `service:e${i}`,
        now,
      }),
    );
    const { store: counted, calls } = counting(store);
    const first = await recordUsageEvents(counted, 'chunks', events, now);
    expect(calls).toEqual({ queries: 1000 / CHUNK, transactions: 0 });
    expect(first.every((a) => 'result' in a)).toBe(true);
    // Sent again (a part of it, and one new event): the fast path sees the keys and steps aside.
    const extra = usageEvent({
      accountId: 'chunks',
      member: 'b@c.test',
      credits: '0.5',
      idempotencyKey: 'service:x',
      now,
    });
    const again = await recordUsageEvents(store, 'chunks', [...events.slice(0, 40), extra], now);
    expect(again.slice(0, 40)).toEqual(first.slice(0, 40));
    expect('result' in again[40]!).toBe(true);
    const used = await store.query<{ n: string; u: string }>(
      "SELECT count(*) AS n, sum(credits) AS u FROM ledger_entries WHERE account_id = 'chunks' AND kind = 'usage'",
    );
    expect(used.rows[0]).toEqual({ n: '1002', u: expect.stringMatching(/^501\.50*$/) });
    expect((await verifyLedger(store, 'chunks')).mismatches).toEqual([]);
  });
});
