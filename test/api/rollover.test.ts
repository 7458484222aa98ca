// Rollover over HTTP against a real `credits serve` process on PostgreSQL: after a reset (a cycle boundary),
// GET /v1/members/:email, the members page and GET /v1/me show what rolled over apart from the allocation;
// usage spends it first and names what is left of it in `remaining`, a 402 included; `credits verify` holds.
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { pgWithConfig } from '../support/databases.js';
import { startServeProcess } from '../support/serve-process.js';
import { createToken } from '../../src/state/tokens.js';
import { verifyLedger } from '../../src/ledger/verify.js';

const config = `version: 1
account:
  id: ro
  creditLimit: 1000
  creditFactor: 1
groups:
  eng:
    allocation: 300
    members:
      dave@ro.test: { allocation: 100, rollover: { max: 30 } }
      erin@ro.test: 100
`;

const servers: ChildProcess[] = [];
afterAll(() => servers.forEach((s) => s.kill('SIGTERM')));

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('rollover over HTTP', () => {
  it('shows rolledOver apart from the allocation, spends it first, and names what is left in a 402', async () => {
    const { url, store } = await pgWithConfig(config);
    const admin = (await createToken(store, { accountId: 'ro', role: 'admin' })).token;
    const service = (await createToken(store, { accountId: 'ro', role: 'service' })).token;
    const dave = (await createToken(store, { accountId: 'ro', role: 'member', member: 'dave@ro.test' }))
      .token;
    const server = await startServeProcess(url);
    servers.push(server.child);
    const call = async (method: string, path: string, bearer: string, body?: Json) => {
      const res = await fetch(server.base + path, {
        method,
        headers: {
          authorization: `Bearer ${bearer}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json()) as Json };
    };
    const use = (credits: string) => call('POST', '/v1/usage', service, { member: 'dave@ro.test', credits });

    expect((await use('85')).body.remaining).toEqual({
      member: '15',
      group: '215',
      account: '915',
      rolledOver: '0',
    });
    expect((await call('POST', '/v1/cycle/reset', admin, {})).status).toBe(200);

    // 15 unused, under the max of 30: 15 rolled over, shown apart from the allocation.
    const member = await call('GET', '/v1/members/dave@ro.test', admin);
    expect(member.status).toBe(200);
    expect(member.body).toMatchObject({
      allocation: '100',
      rolledOver: '15',
      used: '0',
      remaining: { member: '115', group: '315', rolledOver: '15' },
    });
    const page = await call('GET', '/v1/groups/eng/members', admin);
    expect(page.body.items.map((m: Json) => [m.email, m.rolledOver])).toEqual([
      ['dave@ro.test', '15'],
      ['erin@ro.test', '0'],
    ]);
    expect((await call('GET', '/v1/me', dave)).body).toMatchObject({ rolledOver: '15' });

    const spent = await use('10');
    expect(spent.status).toBe(201);
    expect(spent.body.remaining).toEqual({ member: '105', group: '305', account: '990', rolledOver: '5' });

    const refused = await use('105.5');
    expect(refused.status).toBe(402);
    expect(refused.body.error).toMatchObject({
      code: 'BUDGET_EXCEEDED',
      blockedBy: 'member',
      remaining: { member: '105', group: '305', account: '990', rolledOver: '5' },
    });

    const report = await verifyLedger(store, 'ro');
    expect(report.mismatches).toEqual([]);
    expect(report.shape).toEqual([]);
  });
});
