// A whole history is read in bounded batches, on both stores: each query asks for at most one batch, the
// next batch is read only when the one before has been taken (a slow reader holds one batch, never the
// table), and the batches together are every matching row once, in id order.
import { describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { historyFilter } from '../../src/ledger/history-filter.js';
import { listUsage, usageBatches } from '../../src/ledger/usage-history.js';
import { auditBatches } from '../../src/ledger/audit-history.js';
import type { Queryable, Store } from '../../src/state/store.js';

/** The store, recording each query's row count: the real database underneath, only watched. */
function watched(store: Store): { db: Queryable; returned: number[] } {
  const returned: number[] = [];
  return {
    returned,
    db: {
      query: async (sql, params) => {
        const result = await store.query(sql, params);
        returned.push(result.rows.length);
        return result;
      },
    } as Queryable,
  };
}

describe.each(storeKinds)('history batches on %s', (_kind, freshStore) => {
  it('reads 2,500 usage rows as three bounded batches, one query per batch, lazily', async () => {
    const store = await freshStore();
    await store.query(
      `INSERT INTO ledger_entries (account_id, cycle_no, member_email, group_key, kind, credits)
       SELECT 'acme', 1, CASE WHEN k % 2 = 0 THEN 'a@x.com' ELSE 'b@x.com' END, 'g', 'usage', k
         FROM generate_series(1, 5000) AS k`,
    );
    const { db, returned } = watched(store);
    const batches = usageBatches(db, 'acme', historyFilter({ member: 'a@x.com' }), { batchSize: 1000 });
    const first = await batches.next();
    expect(first.value).toHaveLength(1000);
    expect(returned).toEqual([1000]); // nothing read ahead of the reader
    const ids: bigint[] = (first.value as { id: string }[]).map((e) => BigInt(e.id));
    for await (const batch of batches) ids.push(...batch.map((e) => BigInt(e.id)));
    expect(returned).toEqual([1000, 1000, 500]);
    expect(ids).toHaveLength(2500);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
    // The same rows as the pages of the JSON list.
    const paged: bigint[] = [];
    let cursor: string | undefined;
    do {
      const page = await listUsage(store, 'acme', historyFilter({ member: 'a@x.com' }), {
        cursor,
        limit: 1000,
      });
      paged.push(...page.items.map((e) => BigInt(e.id)));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(paged).toEqual(ids);
  });

  it('stops when the reader stops, and a full last batch costs one empty query', async () => {
    const store = await freshStore();
    await store.query(
      `INSERT INTO audit_log (account_id, state_serial, actor, source, address, action)
       SELECT 'acme', k, 'me', 'api', 'account.name', 'update' FROM generate_series(1, 20) AS k`,
    );
    const { db, returned } = watched(store);
    for await (const batch of auditBatches(db, 'acme', historyFilter({}), { batchSize: 10 })) {
      expect(batch.length).toBeLessThanOrEqual(10);
    }
    expect(returned).toEqual([10, 10, 0]);
    returned.length = 0;
    for await (const _batch of auditBatches(db, 'acme', historyFilter({}), { batchSize: 5 })) break;
    expect(returned).toEqual([5]);
  });
});
