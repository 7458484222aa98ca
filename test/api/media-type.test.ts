// A body that is not JSON is 415 UNSUPPORTED_MEDIA_TYPE whatever its media type, text/plain included (Fastify's
// own text/plain parser passed it on as a string: 400 VALIDATION_FAILED), and changes nothing. Over HTTP, a
// real serve process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgWithConfig } from '../support/databases.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { createToken } from '../../src/state/tokens.js';
import type { Store } from '../../src/state/store.js';

const yaml = `version: 1
account:
  id: acme
  creditLimit: 1000
  creditFactor: 1
groups:
  eng:
    allocation: 500
    members:
      alice@acme.com: 100
`;

let serve: ServeProcess;
let store: Store;
let token: string;

beforeAll(async () => {
  const db = await pgWithConfig(yaml);
  store = db.store;
  token = (await createToken(store, { accountId: 'acme', role: 'admin' })).token;
  serve = await startServeProcess(db.url);
}, 120_000);

afterAll(() => {
  serve?.child.kill('SIGTERM');
});

describe('bodies that are not JSON', () => {
  it.each([
    ['text/plain', 'POST', '/v1/usage', 'member=alice@acme.com&credits=5'],
    ['text/plain; charset=utf-8', 'PATCH', '/v1/settings', 'creditLimit: 5'],
    ['application/xml', 'POST', '/v1/usage', '<usage/>'],
    ['application/x-www-form-urlencoded', 'POST', '/v1/usage', 'member=alice%40acme.com&credits=5'],
  ])('%s on %s %s is 415 UNSUPPORTED_MEDIA_TYPE', async (type, method, path, body) => {
    const res = await fetch(`${serve.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': type, 'idempotency-key': `k-${type}` },
      body,
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const used = await store.query<{ n: string }>('SELECT count(*) AS n FROM ledger_entries');
    expect(used.rows[0]!.n).toBe('0');
  });
});
