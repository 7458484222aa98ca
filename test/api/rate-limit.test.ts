// Rate limiting over real HTTP: a bucket per token that authenticates, sized by its role, one per client
// address for anything else (made-up tokens do not buy a bucket each), answered with the catalogue's 429.
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { pgWithConfig } from '../support/databases.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';
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
const processes: ServeProcess[] = [];
afterAll(async () => {
  await app?.close();
  await Promise.all(servers.map((s) => s.close()));
  for (const p of processes) p.child.kill('SIGTERM');
  await Promise.all(processes.map((p) => p.exited));
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

describe('credits serve: limits per role', () => {
  const roles = config.replace('id: paced', 'id: roles') + '    members:\n      alice@roles.test: 5\n';
  /** Statuses of `n` calls in a row; every 429 must carry Retry-After and the coded body. */
  const statuses = async (n: number, call: () => Promise<Response>) => {
    const seen: number[] = [];
    for (let i = 0; i < n; i++) {
      const res = await call();
      seen.push(res.status);
      if (res.status === 429) {
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(await res.json()).toEqual({
          error: { code: 'RATE_LIMITED', message: 'too many requests', requestId: expect.any(String) },
        });
      } else await res.arrayBuffer();
    }
    return seen;
  };
  const repeat = (status: number, n: number) => Array<number>(n).fill(status);

  it('sizes each token by its role (--rate-limit-<role>) and callers without one by address', async () => {
    const { url, store } = await pgWithConfig(roles);
    const token = async (role: 'admin' | 'service' | 'member') =>
      (
        await createToken(store, {
          accountId: 'roles',
          role,
          member: role === 'member' ? 'alice@roles.test' : undefined,
        })
      ).token;
    const [admin, service, member] = [await token('admin'), await token('service'), await token('member')];
    const args = ['--rate-limit-admin', '3', '--rate-limit-service', '5', '--rate-limit-member', '2'];
    const server = await startServeProcess(url, {}, [...args, '--rate-limit-anonymous', '4']);
    processes.push(server);
    const get = (path: string, bearer?: string) =>
      fetch(server.base + path, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });

    const alice = '/v1/members/alice@roles.test';
    expect(await statuses(4, () => get('/v1/overview', admin))).toEqual([...repeat(200, 3), 429]);
    expect(await statuses(7, () => get(alice, service))).toEqual([...repeat(200, 5), 429, 429]);
    expect(await statuses(3, () => get(alice, member))).toEqual([200, 200, 429]);
    // Anonymous: the start-up check of /healthz was the address's first request.
    expect(await statuses(4, () => get('/healthz'))).toEqual([200, 200, 200, 429]);
    // Each token has its own bucket: a second service token is not held back by the first.
    expect(await statuses(1, () => get(alice, service))).toEqual([429]);
    const other = await token('service');
    expect(await statuses(1, () => get(alice, other))).toEqual([200]);
  });

  it('CREDITS_RATE_LIMIT sets every limit no flag sets; failed authentication stays limited', async () => {
    const { url, store } = await pgWithConfig(roles.replace('id: roles', 'id: roles_env'));
    const admin = (await createToken(store, { accountId: 'roles_env', role: 'admin' })).token;
    const service = (await createToken(store, { accountId: 'roles_env', role: 'service' })).token;
    const server = await startServeProcess(url, { CREDITS_RATE_LIMIT: '3' }, ['--rate-limit-service', '6']);
    processes.push(server);
    const overview = (bearer: string) =>
      fetch(`${server.base}/v1/overview`, { headers: { authorization: `Bearer ${bearer}` } });

    expect(await statuses(4, () => overview(admin))).toEqual([...repeat(200, 3), 429]);
    expect(
      await statuses(7, () =>
        fetch(`${server.base}/v1/members/alice@roles.test`, {
          headers: { authorization: `Bearer ${service}` },
        }),
      ),
    ).toEqual([...repeat(200, 6), 429]);
    // Made-up tokens count against the address (3, one used by the start-up check), never a bucket each.
    let i = 0;
    const madeUp = () => overview(`cr_${String(i++).padStart(43, 'z')}`);
    expect(await statuses(4, madeUp)).toEqual([401, 401, 429, 429]);
  });

  it('refuses a limit that is not a whole number of requests a minute, before serving', async () => {
    for (const bad of ['0', '-5', '1.5', 'many', '1e3']) {
      const failed = await promisify(execFile)(
        process.execPath,
        [resolve('bin/credits.js'), 'serve', '--port', '0', '--rate-limit-member', bad],
        { env: { ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', CREDITS_LOG: 'off' } },
      ).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => err,
      );
      expect(failed.code, bad).toBe(1);
      expect(failed.stderr).toContain('VALIDATION_FAILED');
      expect(failed.stderr).toContain('--rate-limit-member');
    }
  });
});
