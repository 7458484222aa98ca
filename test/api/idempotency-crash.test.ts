// A `credits serve` process killed with SIGKILL in the middle of keyed settles: a retry of each request with
// its Idempotency-Key, sent to a new process, succeeds, and every hold is settled exactly once.
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { pgWithConfig } from '../support/databases.js';
import { startServeProcess } from '../support/serve-process.js';
import { createToken } from '../../src/state/tokens.js';
import { reserve } from '../../src/ledger/reservations.js';
import { verifyLedger } from '../../src/ledger/verify.js';

const config = `version: 1
account:
  id: crash
  creditLimit: 100000
  creditFactor: 1
groups:
  eng:
    allocation: 90000
    members:
      a@crash.test: 90000
`;

const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

describe('idempotency across a crash', () => {
  it('keyed settles in flight when the server is killed run exactly once on retry', async () => {
    const { url, store } = await pgWithConfig(config);
    const { token } = await createToken(store, { accountId: 'crash', role: 'service' });
    const holds: string[] = [];
    for (let i = 0; i < 300; i++) {
      holds.push((await reserve(store, { accountId: 'crash', member: 'a@crash.test', credits: '2' })).id);
    }
    const settle = (base: string, id: string, i: number) =>
      fetch(`${base}/v1/reservations/${id}/settle`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': `settle-${i}`,
        },
        body: JSON.stringify({ credits: String(1 + (i % 3)) }),
      });

    const first = await startServeProcess(url);
    children.push(first.child);
    let answered = 0;
    const load = holds.map((id, i) =>
      settle(first.base, id, i).then(
        async (res) => {
          await res.arrayBuffer();
          if (++answered === 40) first.child.kill('SIGKILL');
        },
        () => {}, // the connection died with the process
      ),
    );
    await Promise.all(load);
    await first.exited;
    expect(answered).toBeLessThan(300); // the kill came mid-load

    const second = await startServeProcess(url);
    children.push(second.child);
    const statuses = new Map<number, number>();
    await Promise.all(
      holds.map(async (id, i) => {
        // A backend of the killed process may still be finishing for a moment: its key is busy, not stuck.
        for (let attempt = 0; ; attempt++) {
          const res = await settle(second.base, id, i);
          const body = (await res.json()) as { status?: string; error?: { code: string } };
          if (res.status === 409 && body.error?.code === 'IDEMPOTENCY_IN_FLIGHT' && attempt < 20) {
            await new Promise((r) => setTimeout(r, 250));
            continue;
          }
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          return;
        }
      }),
    );
    expect(Object.fromEntries(statuses)).toEqual({ 200: 300 });

    const { rows } = await store.query<{ kind: string; n: string; holds: string }>(
      `SELECT kind, count(*) AS n, count(DISTINCT reservation_id) AS holds FROM ledger_entries
        WHERE account_id = 'crash' AND kind IN ('usage', 'hold-release') GROUP BY kind ORDER BY kind`,
    );
    expect(rows).toEqual([
      { kind: 'hold-release', n: '300', holds: '300' },
      { kind: 'usage', n: '300', holds: '300' },
    ]);
    const check = await verifyLedger(store, 'crash');
    expect(check.mismatches).toEqual([]);
  }, 90_000);
});
