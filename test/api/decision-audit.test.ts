// Decisions on requests are in the audit log (GET /v1/audit, the dashboard's Activity tab): who approved or
// denied which request for whom, and the group reserve's automatic approvals. Over HTTP, a real serve process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgWithConfig } from '../support/databases.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { createToken } from '../../src/state/tokens.js';

const yaml = `version: 1
account:
  id: acme
  creditLimit: 10000
  creditFactor: 1
groups:
  eng:
    allocation: 5000
    autoApprove: 50
    members:
      alice@acme.com: 1000
      bob@acme.com: {}
  default:
    allocation: 100
`;

let serve: ServeProcess;
const tokens: Record<string, { tokenId: string; token: string }> = {};

beforeAll(async () => {
  const db = await pgWithConfig(yaml);
  tokens.admin = await createToken(db.store, { accountId: 'acme', role: 'admin' });
  tokens.alice = await createToken(db.store, { accountId: 'acme', role: 'member', member: 'alice@acme.com' });
  serve = await startServeProcess(db.url);
}, 120_000);

afterAll(() => {
  serve?.child.kill('SIGTERM');
});

const call = async (who: string, method: string, path: string, body?: object) => {
  const res = await fetch(`${serve.base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${tokens[who]!.token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('decisions on requests in the audit log', () => {
  it('records approvals, denials and automatic approvals with who, whom and how much', async () => {
    const asked = async (amount: string) =>
      (await call('alice', 'POST', '/v1/requests', { amount, reason: 'demo' })).body as {
        id: string;
        status: string;
      };
    const big = await asked('500');
    const other = await asked('300');
    const small = await asked('20');
    expect([big.status, other.status, small.status]).toEqual(['pending', 'pending', 'auto-approved']);
    expect((await call('admin', 'POST', `/v1/requests/${big.id}/approve`, { amount: '400' })).status).toBe(
      200,
    );
    expect((await call('admin', 'POST', `/v1/requests/${other.id}/deny`, { reason: 'not now' })).status).toBe(
      200,
    );

    const audit = (await call('admin', 'GET', '/v1/audit?source=api')).body as {
      items: { actor: string; address: string; action: string; after: Record<string, unknown> }[];
    };
    const decisions = audit.items.filter((r) => r.address.startsWith('request.'));
    expect(decisions).toEqual([
      expect.objectContaining({
        actor: 'auto-approve',
        address: `request.${small.id}`,
        action: 'auto-approve',
        after: { member: 'alice@acme.com', status: 'auto-approved', approvedAmount: '20' },
      }),
      expect.objectContaining({
        actor: `token:${tokens.admin!.tokenId}`,
        address: `request.${big.id}`,
        action: 'approve',
        after: { member: 'alice@acme.com', status: 'approved', approvedAmount: '400' },
      }),
      expect.objectContaining({
        actor: `token:${tokens.admin!.tokenId}`,
        address: `request.${other.id}`,
        action: 'deny',
        after: { member: 'alice@acme.com', status: 'denied', reason: 'not now' },
      }),
    ]);
  });
});
