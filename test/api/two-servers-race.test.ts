// Two API processes sharing one PostgreSQL: 64 concurrent HTTP writers spend against one member, one group
// and one account near their limits. No level ends over budget, and every counter equals its ledger sum.
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { pgWithConfig } from '../support/databases.js';
import { startServeProcess } from '../support/serve-process.js';
import { createToken } from '../../src/state/tokens.js';
import { verifyLedger } from '../../src/ledger/verify.js';
import { dec } from '../../src/decimal.js';

const config = `version: 1
account:
  id: duo
  creditLimit: 600
  creditFactor: 1
groups:
  eng:
    allocation: 400
    members:
      solo@duo.test: 80
      p1@duo.test: {}
      p2@duo.test: {}
  ops:
    allocation: 150
    members:
      o1@duo.test: {}
  default:
    allocation: 50
`;

const servers: ChildProcess[] = [];
afterAll(() => servers.forEach((s) => s.kill('SIGTERM')));

async function startServer(url: string): Promise<string> {
  const server = await startServeProcess(url);
  servers.push(server.child);
  return server.base;
}

describe('overspend race over HTTP, two server processes', () => {
  it('never overspends any level', async () => {
    const { url, store } = await pgWithConfig(config);
    const { token } = await createToken(store, { accountId: 'duo', role: 'service' });
    const bases = await Promise.all([startServer(url), startServer(url)]);
    const members = ['solo', 'p1', 'p2', 'o1'].map((m) => `${m}@duo.test`);
    const statuses = new Map<number, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async (_, w) => {
        while (next < 1200) {
          const i = next++;
          const res = await fetch(`${bases[w % 2]}/v1/usage`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${token}`,
              'content-type': 'application/json',
              'idempotency-key': `e${i}`,
            },
            body: JSON.stringify({ member: members[i % members.length], credits: String(1 + (i % 7)) }),
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          await res.arrayBuffer();
        }
      }),
    );
    expect([...statuses.keys()].every((s) => s === 201 || s === 402)).toBe(true);
    expect(statuses.get(402)).toBeGreaterThan(0);
    const used = async (scope: string) =>
      dec(
        (
          await store.query<{ u: string | null }>(
            'SELECT sum(c.value::numeric) AS u FROM ledger_entries e, jsonb_each_text(e.charges) c WHERE c.key = $1',
            [scope],
          )
        ).rows[0]!.u ?? '0',
      );
    expect((await used('member:solo@duo.test')).lessThanOrEqualTo(80)).toBe(true);
    expect((await used('pool:eng')).lessThanOrEqualTo(320)).toBe(true);
    expect((await used('group:eng')).lessThanOrEqualTo(400)).toBe(true);
    expect((await used('group:ops')).lessThanOrEqualTo(150)).toBe(true);
    expect((await used('account')).lessThanOrEqualTo(600)).toBe(true);
    expect((await verifyLedger(store, 'duo')).mismatches).toEqual([]);
    await store.close();
  }, 120_000);
});
