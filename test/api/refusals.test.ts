// POST /v1/usage over real HTTP, on both stores: a refused event answers 402 with the body it always has
// (code, message, blockedBy, and what the member, the group and the account can still spend) at each level,
// and costs the server one round trip to the database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { storeKinds } from '../support/databases.js';
import { buildServer } from '../../src/api/server.js';
import { createToken } from '../../src/state/tokens.js';
import { counting, REFUSALS, setUpRefusals } from '../support/refusals.js';

describe.each(storeKinds)('402 BUDGET_EXCEEDED over HTTP on %s', (_kind, freshStore) => {
  let app: FastifyInstance;
  let base: string;
  let calls: { queries: number; transactions: number };
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    const real = await freshStore();
    await setUpRefusals(real);
    const { store, calls: counted } = counting(real);
    calls = counted;
    for (const r of REFUSALS) {
      tokens[r.account] = (await createToken(store, { accountId: r.account, role: 'service' })).token;
    }
    app = await buildServer({ store, rateLimit: 100_000 });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
  });

  const refuse = (r: (typeof REFUSALS)[number], key: string) =>
    fetch(`${base}/v1/usage`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens[r.account]}`,
        'content-type': 'application/json',
        'idempotency-key': key,
      },
      body: JSON.stringify({ member: r.member, credits: r.credits }),
    });

  it.each(REFUSALS)('at the $body.blockedBy level', async (r) => {
    const res = await refuse(r, `refused-${r.account}`);
    expect(res.status).toBe(402);
    expect(await res.json()).toEqual({
      error: {
        code: 'BUDGET_EXCEEDED',
        message: `budget exceeded at the ${r.body.blockedBy} level`,
        ...r.body,
        requestId: res.headers.get('x-request-id'),
      },
    });
    // Again with the token known to the server (it remembers one for 2 s): the refusal's only round trip
    // is the batch that refused it.
    const before = { ...calls };
    expect((await refuse(r, `again-${r.account}`)).status).toBe(402);
    expect({
      queries: calls.queries - before.queries,
      transactions: calls.transactions - before.transactions,
    }).toEqual({ queries: 1, transactions: 0 });
  });
});
