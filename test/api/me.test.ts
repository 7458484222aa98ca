// GET /v1/me over HTTP against a real `credits serve` process on PostgreSQL: a member token sees what
// GET /v1/members/<own e-mail> shows, plus the cycle, this cycle's grants and its latest requests; admin and
// service tokens are refused with 403 FORBIDDEN.
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { pgWithConfig } from '../support/databases.js';
import { startServeProcess } from '../support/serve-process.js';
import { createToken } from '../../src/state/tokens.js';

const config = `version: 1
account:
  id: me
  creditLimit: 1000
  creditFactor: 1
groups:
  eng:
    allocation: 500
    autoApprove: 5
    members:
      alice@me.test: 10
      bob@me.test: {}
  default:
    allocation: 100
`;

const servers: ChildProcess[] = [];
afterAll(() => servers.forEach((s) => s.kill('SIGTERM')));

type Json = Record<string, unknown>;

describe('GET /v1/me', () => {
  it("shows a member's own balances, cycle, grants and requests; other roles get 403", async () => {
    const { url, store } = await pgWithConfig(config);
    const token = async (role: 'admin' | 'service' | 'member', member?: string) =>
      (await createToken(store, { accountId: 'me', role, member })).token;
    const [admin, service, alice, bob] = [
      await token('admin'),
      await token('service'),
      await token('member', 'alice@me.test'),
      await token('member', 'bob@me.test'),
    ];
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

    expect((await call('POST', '/v1/usage', service, { member: 'alice@me.test', credits: '4' })).status).toBe(
      201,
    );
    // 3 is within the group's reserve (auto-approved, a grant this cycle); 50 waits for an admin.
    const granted = await call('POST', '/v1/requests', alice, { amount: '3', reason: 'more' });
    expect(granted.body.status).toBe('auto-approved');
    const pending = await call('POST', '/v1/requests', alice, { amount: '50', reason: 'much more' });
    expect(pending.body.status).toBe('pending');

    const me = await call('GET', '/v1/me', alice);
    expect(me.status).toBe(200);
    const member = await call('GET', '/v1/members/alice@me.test', alice);
    for (const [k, v] of Object.entries(member.body)) expect(me.body[k]).toEqual(v);
    expect(me.body).toMatchObject({ email: 'alice@me.test', group: 'eng', used: '4' });
    expect(me.body.remaining).toMatchObject({ member: '9' }); // 10 + 3 granted − 4 used
    const cycle = me.body.cycle as { number: number; start: string; end: string };
    expect(cycle.number).toBeGreaterThan(0);
    expect(Date.parse(cycle.start)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(cycle.end)).toBeGreaterThan(Date.now());
    expect(me.body.grants).toMatchObject({ total: '3', count: 1 });
    expect((me.body.grants as { recent: Json[] }).recent).toEqual([
      expect.objectContaining({ credits: '3', requestId: granted.body.id }),
    ]);
    const requests = me.body.requests as { recent: Json[]; nextCursor: string | null };
    expect(requests.recent.map((r) => r.id)).toEqual([pending.body.id, granted.body.id]);
    expect(requests.nextCursor).toBeNull();

    // Another member sees only their own.
    const other = await call('GET', '/v1/me', bob);
    expect(other.body).toMatchObject({
      email: 'bob@me.test',
      used: '0',
      grants: { total: '0', count: 0, recent: [] },
    });
    expect((other.body.requests as { recent: Json[] }).recent).toEqual([]);

    for (const bearer of [admin, service]) {
      const refused = await call('GET', '/v1/me', bearer);
      expect(refused.status).toBe(403);
      expect(refused.body.error).toMatchObject({ code: 'FORBIDDEN' });
    }
    expect((await call('GET', '/v1/me', 'cr_not-a-token')).status).toBe(401);
  });
});
