// A refused usage event (BUDGET_EXCEEDED) names the level that refused it and what the member, the group and
// the account can still spend, and it costs one round trip: the batch that refused it read those amounts in
// the same statement, and a batch of refusals writes nothing (no transaction id, so no WAL flush at commit).
import { describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { recordUsage } from '../../src/ledger/usage.js';
import { verifyLedger } from '../../src/ledger/verify.js';
import { counting, REFUSALS, setUpRefusals } from '../support/refusals.js';

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('the event was charged');
    },
    (e: { code: string; details: object }) => ({ code: e.code, details: e.details }),
  );

describe.each(storeKinds)('refusals on %s', (_kind, freshStore) => {
  it('a refusal names its level and what remains at each level, as the 402 body always has', async () => {
    const store = await freshStore();
    await setUpRefusals(store);
    for (const r of REFUSALS) {
      expect(
        await refusal(recordUsage(store, { accountId: r.account, member: r.member, credits: r.credits })),
      ).toEqual({ code: 'BUDGET_EXCEEDED', details: r.body });
      expect((await verifyLedger(store, r.account)).mismatches).toEqual([]);
    }
  });

  it('a refusal costs one round trip, and its batch writes nothing', async () => {
    const store = await freshStore();
    await setUpRefusals(store);
    for (const r of REFUSALS) {
      const { store: counted, calls } = counting(store);
      const event = { accountId: r.account, member: r.member, credits: r.credits, idempotencyKey: 'k' };
      expect(await refusal(recordUsage(counted, event))).toMatchObject({ details: r.body });
      expect({ level: r.body.blockedBy, ...calls }).toEqual({
        level: r.body.blockedBy,
        queries: 1,
        transactions: 0,
      });

      const xid = await store.transaction(async (tx) => {
        const { rows } = await tx.query<{ o: unknown[] }>(
          'SELECT credits_record_usage_batch($1, $2::jsonb) AS o',
          [
            r.account,
            JSON.stringify([
              { ord: 0, email: r.member, credits: r.credits, key: 'k', hash: 'h', now: new Date() },
            ]),
          ],
        );
        expect(rows[0]!.o).toEqual([
          { status: 'blocked', level: r.body.blockedBy, remaining: r.body.remaining },
        ]);
        return (
          await tx.query<{ xid: string | null }>('SELECT pg_current_xact_id_if_assigned()::text AS xid')
        ).rows[0]!.xid;
      });
      expect({ level: r.body.blockedBy, xid }).toEqual({ level: r.body.blockedBy, xid: null });
    }
    // A refusal stores nothing under its key: the same key is evaluated again, and can be charged.
    const again = await recordUsage(store, {
      accountId: 'member-level',
      member: 'alice@acme.test',
      credits: '1',
      idempotencyKey: 'k',
    });
    expect(again.remaining.member).toBe('14');
  });

  it('refusals sent with accepted events share their batches and neither charge nor block them', async () => {
    const store = await freshStore();
    await setUpRefusals(store);
    // alice has 5 of her own left and 10 signup credits.
    const outcomes = await Promise.allSettled(
      ['1', '500', '2', '500', '3'].map((credits) =>
        recordUsage(store, { accountId: 'member-level', member: 'alice@acme.test', credits }),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    const { rows } = await store.query<{ scope: string; used: string }>(
      `SELECT scope, trim_scale(sum(used))::text AS used FROM budget_counters
        WHERE account_id = 'member-level' AND scope LIKE '%alice%' GROUP BY scope ORDER BY scope`,
    );
    expect(rows).toEqual([
      { scope: 'member:alice@acme.test', used: '100' },
      { scope: 'signup:alice@acme.test', used: '1' },
    ]);
    expect((await verifyLedger(store, 'member-level')).mismatches).toEqual([]);
  });
});
