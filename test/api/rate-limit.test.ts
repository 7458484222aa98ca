// Rate limiting over real HTTP: a bucket per token that authenticates, one per client address for anything
// else (made-up tokens do not buy a bucket each), answered with the catalogue's 429.
import { afterAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { pgWithConfig } from '../support/databases.js';
import { buildServer } from '../../src/api/server.js';
import { createToken } from '../../src/state/tokens.js';

const config = `version: 1
account:
  id: paced
  creditLimit: 100
groups:
  default:
    allocation: 10
`;

let app: FastifyInstance | undefined;
afterAll(async () => {
  await app?.close();
});

describe('API rate limit', () => {
  it('limits each token on its own, and unknown tokens together by address', async () => {
    const { store } = await pgWithConfig(config);
    const first = (await createToken(store, { accountId: 'paced', role: 'admin' })).token;
    const second = (await createToken(store, { accountId: 'paced', role: 'admin' })).token;
    app = await buildServer({ store, rateLimit: 3 });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const get = (token: string) =>
      fetch(`${base}/v1/overview`, { headers: { authorization: `Bearer ${token}` } });

    for (let i = 0; i < 3; i++) expect((await get(first)).status).toBe(200);
    const limited = await get(first);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.json()).toEqual({ error: { code: 'RATE_LIMITED', message: 'too many requests' } });
    expect((await get(second)).status).toBe(200); // another token, another bucket

    const madeUp = (i: number) => `cr_${String(i).padStart(43, 'x')}`;
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(madeUp(i))).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });
});
