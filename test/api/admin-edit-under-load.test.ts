// Admin edits under load, over HTTP against two `credits serve` processes: PATCHes of members, groups and
// settings race with usage, reservations and auto-approved requests of the same members. A deadlock victim
// is retried, so no answer is ever a 5xx, and the ledger still verifies.
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { pgWithConfig } from '../support/databases.js';
import { startServeProcess } from '../support/serve-process.js';
import { createToken } from '../../src/state/tokens.js';
import { verifyLedger } from '../../src/ledger/verify.js';

const members = ['m0', 'm1', 'm2', 'm3', 'p0', 'p1'].map((m) => `${m}@load.test`);
const config = `version: 1
account:
  id: load
  creditLimit: 1000000
  creditFactor: 1
groups:
  eng:
    allocation: 500000
    autoApprove: 100000
    members:
${members.map((m) => `      ${m}: ${m.startsWith('p') ? '{}' : '1000'}`).join('\n')}
`;

const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

describe('admin edits under load', () => {
  it('never answer 5xx', async () => {
    const { url, store } = await pgWithConfig(config);
    const admin = (await createToken(store, { accountId: 'load', role: 'admin' })).token;
    const servers = await Promise.all([startServeProcess(url), startServeProcess(url)]);
    children.push(...servers.map((s) => s.child));
    const call = async (i: number, method: string, path: string, body: unknown) => {
      const res = await fetch(servers[i % 2]!.base + path, {
        method,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, text };
    };
    const failures: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 24 }, async () => {
        while (next < 360) {
          const i = next++;
          const member = members[i % members.length]!;
          const kind = i % 6;
          const r =
            kind === 0
              ? await call(i, 'PATCH', `/v1/members/${member}`, { extra: String(i % 50) })
              : kind === 1
                ? await call(i, 'PATCH', '/v1/groups/eng', { autoApprove: String(100000 - (i % 7)) })
                : kind === 2
                  ? await call(i, 'POST', '/v1/requests', { member, amount: '1', reason: 'load' })
                  : kind === 3
                    ? await call(i, 'POST', '/v1/reservations', { member, credits: '2' })
                    : await call(i, 'POST', '/v1/usage', { member, credits: '1' });
          if (r.status >= 500) failures.push(`${r.status} ${r.text}`);
        }
      }),
    );
    expect(failures).toEqual([]);
    const check = await verifyLedger(store, 'load');
    expect(check.mismatches).toEqual([]);
  }, 120_000);
});
