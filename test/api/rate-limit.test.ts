// Rate limiting over real HTTP: a bucket per token that authenticates, one per client address for anything
// else (made-up tokens do not buy a bucket each), answered with the catalogue's 429.
import { afterAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
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
const servers: FastifyInstance[] = [];
afterAll(async () => {
  await app?.close();
  await Promise.all(servers.map((s) => s.close()));
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
    expect(await limited.json()).toEqual({
      error: {
        code: 'RATE_LIMITED',
        message: 'too many requests',
        requestId: limited.headers.get('x-request-id'),
      },
    });
    expect((await get(second)).status).toBe(200); // another token, another bucket

    const madeUp = (i: number) => `cr_${String(i).padStart(43, 'x')}`;
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(madeUp(i))).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });
});

describe('API rate limit on every request', () => {
  it('limits 404s and OPTIONS too, per address without a token and per token on /v1', async () => {
    const { store } = await pgWithConfig(config.replace('id: paced', 'id: paced404'));
    const admin = (await createToken(store, { accountId: 'paced404', role: 'admin' })).token;
    const server = await buildServer({ store, rateLimit: 3 });
    servers.push(server);
    const base = await server.listen({ port: 0, host: '127.0.0.1' });
    const status = async (method: string, path: string, token?: string) =>
      (await fetch(base + path, { method, headers: token ? { authorization: `Bearer ${token}` } : {} }))
        .status;

    expect(await status('GET', '/no/such/page')).toBe(404);
    expect(await status('OPTIONS', '/v1/usage')).toBe(401); // /v1 needs a token, whatever the method
    expect(await status('OPTIONS', '/')).toBe(404);
    expect(await status('OPTIONS', '/v1/usage')).toBe(429);
    expect(await status('GET', '/no/such/page')).toBe(429);
    expect(await status('GET', '/healthz')).toBe(429);

    // A token's own bucket: unknown /v1 paths count against it as well.
    const limited = [];
    for (let i = 0; i < 4; i++) limited.push(await status('GET', '/v1/no-such-route', admin));
    expect(limited).toEqual([404, 404, 404, 429]);
  });

  it('answers 429 to made-up tokens without looking them up in the database', async () => {
    const { url, store } = await pgWithConfig(config.replace('id: paced', 'id: paced_lookup'));
    const server = await buildServer({ store, rateLimit: 3 });
    servers.push(server);
    const base = await server.listen({ port: 0, host: '127.0.0.1' });
    const madeUp = (i: number) =>
      fetch(`${base}/v1/overview`, {
        headers: { authorization: `Bearer cr_${String(i).padStart(43, 'y')}` },
        signal: AbortSignal.timeout(3000),
      }).then((r) => r.status);
    for (let i = 0; i < 3; i++) expect(await madeUp(i)).toBe(401);

    // While the token table is locked, any lookup would wait; the answer comes at once, so none was made.
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE api_tokens IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      expect(await Promise.all([madeUp(10), madeUp(11), madeUp(12)])).toEqual([429, 429, 429]);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
  });
});
