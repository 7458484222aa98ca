// Request ids over HTTP against a real `credits serve` with its log on: a valid X-Request-Id is used, anything
// else is replaced by a UUID; the id comes back on every answer, in every error body, and in the log lines of
// its request.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgWithConfig } from '../support/databases.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { createToken } from '../../src/state/tokens.js';
import { createPgStore } from '../../src/state/pg-store.js';
import { buildServer } from '../../src/api/server.js';

const config = `version: 1
account:
  id: traced
  creditFactor: 1
  creditLimit: 1000
groups:
  default:
    allocation: 10
    members:
      ann@traced.test: {}
`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let server: ServeProcess;
let token: string;
const logLines: Record<string, unknown>[] = [];
let partial = '';

beforeAll(async () => {
  const { url, store } = await pgWithConfig(config);
  token = (await createToken(store, { accountId: 'traced', role: 'admin' })).token;
  server = await startServeProcess(url, { CREDITS_LOG: 'on' });
  server.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
  });
});
afterAll(() => {
  server?.child.kill('SIGKILL');
});

/** A raw request, so that header values fetch would refuse (latin-1, tabs) can be sent. */
const send = (
  path: string,
  headers: Record<string, string> = {},
  opts: { method?: string; body?: string } = {},
): Promise<{ status: number; id: string | undefined; body: string }> =>
  new Promise((resolve, reject) => {
    const req = request(`${server.base}${path}`, { method: opts.method ?? 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, id: res.headers['x-request-id'] as string | undefined, body }),
      );
    });
    req.on('error', reject);
    req.end(opts.body);
  });

const until = async (check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
};

describe('request ids', () => {
  it('makes a UUID when none is given, a new one for each request', async () => {
    const a = await send('/healthz');
    const b = await send('/healthz');
    expect(a.status).toBe(200);
    expect(a.id).toMatch(UUID);
    expect(b.id).toMatch(UUID);
    expect(a.id).not.toBe(b.id);
  });

  it('uses a valid incoming id: printable ASCII, up to 128 characters', async () => {
    for (const id of ['abc-123', 'trace=00f0;span 7/x', 'x'.repeat(128), '~!@#$%^&*()']) {
      expect((await send('/healthz', { 'x-request-id': id })).id).toBe(id);
    }
  });

  it('replaces an invalid incoming id with a new UUID', async () => {
    for (const id of ['x'.repeat(129), 'caf\u00e9', 'a\tb']) {
      const res = await send('/healthz', { 'x-request-id': id });
      expect(res.status).toBe(200);
      expect(res.id).toMatch(UUID);
    }
  });

  it('puts the id in every error body, next to an intact code and message', async () => {
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const cases = [
      { path: '/no/such/page', headers: {}, status: 404, code: 'NOT_FOUND' },
      { path: '/v1/overview', headers: {}, status: 401, code: 'UNAUTHORIZED' },
      {
        path: '/v1/usage',
        method: 'POST',
        headers: auth,
        body: '{"member":',
        status: 400,
        code: 'INVALID_JSON',
      },
      {
        path: '/v1/usage',
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ member: 'ann@traced.test', credits: '999999' }),
        status: 402,
        code: 'BUDGET_EXCEEDED',
      },
    ];
    for (const [i, c] of cases.entries()) {
      for (const given of [`err-${i}`, undefined]) {
        const headers = given ? { ...c.headers, 'x-request-id': given } : c.headers;
        const res = await send(c.path, headers, { method: c.method, body: c.body });
        expect(res.status).toBe(c.status);
        const { error } = JSON.parse(res.body) as { error: Record<string, unknown> };
        expect(error.code).toBe(c.code);
        expect(typeof error.message).toBe('string');
        expect(error.requestId).toBe(res.id);
        if (given) expect(res.id).toBe(given);
        else expect(res.id).toMatch(UUID);
      }
    }
  });

  it('puts the id in server-side error bodies too (503 from /readyz without a database)', async () => {
    const store = createPgStore('postgres://credits@127.0.0.1:1/nowhere', { max: 1 });
    const app = await buildServer({ store });
    try {
      const res = await app.inject({ method: 'GET', url: '/readyz', headers: { 'x-request-id': 'down-1' } });
      expect(res.statusCode).toBe(503);
      expect(res.headers['x-request-id']).toBe('down-1');
      expect(res.json()).toEqual({
        error: {
          code: 'DATABASE_UNAVAILABLE',
          message: 'cannot reach the database: query failed',
          requestId: 'down-1',
        },
      });
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('binds the id to every log line of its request', async () => {
    const id = 'log-line-check-1';
    const res = await send('/v1/members/ann@traced.test', {
      'x-request-id': id,
      authorization: `Bearer ${token}`,
    });
    expect(res.status).toBe(200);
    await until(() => logLines.some((l) => l.reqId === id && l.msg === 'request completed'));
    const mine = logLines.filter((l) => l.reqId === id);
    expect(mine.map((l) => l.msg)).toEqual(['incoming request', 'request completed']);
    expect(mine[0]!.req).toMatchObject({ method: 'GET', url: '/v1/members/ann@traced.test' });
    // Every line about a request carries the id of its request; only the process's own lines have none.
    const requestLines = logLines.filter((l) => 'req' in l || 'res' in l);
    expect(requestLines.length).toBeGreaterThan(10);
    for (const line of requestLines) expect(line.reqId).toEqual(expect.any(String));
    const generated = logLines.filter((l) => typeof l.reqId === 'string' && UUID.test(l.reqId));
    expect(generated.length).toBeGreaterThan(0);
    // The authorization header never reaches the log.
    expect(JSON.stringify(logLines)).not.toContain(token);
  });
});
