// What the API accepts, over HTTP against a real `credits serve` process on PostgreSQL: amounts only as exact
// decimals (judged on the text sent), no coercion, bounded idempotency keys scoped to the caller, bounded
// body depth, `used` from the whole cycle, and every list a page.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgWithConfig } from '../support/databases.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { createToken } from '../../src/state/tokens.js';
import type { Store } from '../../src/state/store.js';

const config = `version: 1
account:
  id: exact
  creditLimit: 100000
  creditFactor: 1
  signupCredits: 0
groups:
  eng:
    allocation: 50000
    autoApprove: 0
    members:
      alice@exact.test: 20000
      carol@exact.test: 1000
      dave@exact.test: { extra: 10 }
  default:
    allocation: 100
`;

let url: string;
let store: Store;
let serve: ServeProcess;
const t = { admin: '', service: '', alice: '', dave: '' };

beforeAll(async () => {
  ({ url, store } = await pgWithConfig(config));
  t.admin = (await createToken(store, { accountId: 'exact', role: 'admin' })).token;
  t.service = (await createToken(store, { accountId: 'exact', role: 'service' })).token;
  t.alice = (
    await createToken(store, { accountId: 'exact', role: 'member', member: 'alice@exact.test' })
  ).token;
  t.dave = (
    await createToken(store, { accountId: 'exact', role: 'member', member: 'dave@exact.test' })
  ).token;
  serve = await startServeProcess(url, { CREDITS_RATE_LIMIT: '1000000' });
});
afterAll(async () => {
  serve?.child.kill('SIGTERM');
  await serve?.exited;
});

type Reply = { status: number; body: Record<string, unknown> & { error?: Record<string, unknown> } };

/** One request; `raw` is sent as the body text exactly as given (JSON numbers keep their spelling). */
async function send(
  method: string,
  path: string,
  token: string,
  raw?: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await fetch(serve.base + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(raw !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: raw,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}
const json = (method: string, path: string, token: string, body: unknown, headers?: Record<string, string>) =>
  send(method, path, token, JSON.stringify(body), headers);

/** Everything the ledger and the counters hold for the account, to show that refused requests changed nothing. */
const snapshot = async () =>
  (
    await store.query<{ s: string }>(
      `SELECT (SELECT count(*) FROM ledger_entries WHERE account_id = 'exact') || '/' ||
              (SELECT coalesce(sum(used), 0) FROM budget_counters WHERE account_id = 'exact') || '/' ||
              (SELECT count(*) FROM requests WHERE account_id = 'exact') || '/' ||
              (SELECT state_serial FROM accounts WHERE account_id = 'exact') AS s`,
    )
  ).rows[0]!.s;

const verify = async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [resolve('bin/credits.js'), 'verify', '--account', 'exact'],
    { env: { ...process.env, DATABASE_URL: url, CREDITS_LOG: 'off' } },
  );
  return stdout;
};

describe('amounts', () => {
  it('every amount of every route is an exact decimal of at most 6 places, or 400 INVALID_AMOUNT naming it', async () => {
    const hold = await json('POST', '/v1/reservations', t.service, {
      member: 'alice@exact.test',
      credits: '1',
    });
    expect(hold.status).toBe(201);
    const pending = await json('POST', '/v1/requests', t.admin, {
      member: 'alice@exact.test',
      amount: '5',
      reason: 'x',
    });
    expect(pending.body.status).toBe('pending');
    // [method, path, body before the amount, field]
    const places: [string, string, string, string][] = [
      ['POST', '/v1/usage', '"member":"alice@exact.test",', 'credits'],
      ['POST', '/v1/usage', '"member":"alice@exact.test",', 'costUsd'],
      ['POST', '/v1/reservations', '"member":"alice@exact.test",', 'credits'],
      ['POST', `/v1/reservations/${hold.body.id}/settle`, '', 'credits'],
      ['POST', '/v1/requests', '"member":"alice@exact.test","reason":"x",', 'amount'],
      ['POST', `/v1/requests/${pending.body.id}/approve`, '', 'amount'],
      ['PATCH', '/v1/members/alice@exact.test', '', 'extra'],
      ['PATCH', '/v1/members/alice@exact.test', '', 'allocation'],
      ['PATCH', '/v1/groups/eng', '', 'extra'],
      ['PATCH', '/v1/settings', '', 'creditFactor'],
    ];
    const bad = [
      '"1.0000001"',
      '1.0000001',
      '1e-7',
      '1E2',
      '1.0000000000000001',
      '0.0000001',
      '"0.0000001"',
      '" 5 "',
      '"0x10"',
      '[5]',
      '"Infinity"',
      '"NaN"',
      '"-1"',
      '-1',
      '-0',
      '"1e3"',
      '"5."',
      '".5"',
      '""',
      'true',
      '{}',
      '"1000000000000000.000001"',
      '1000000000000001',
      '123456789012345678901',
    ];
    const before = await snapshot();
    for (const [method, path, prefix, field] of places) {
      for (const value of bad) {
        const res = await send(method, path, t.admin, `{${prefix}"${field}":${value}}`);
        expect(
          [res.status, res.body.error?.code, res.body.error?.field],
          `${path} ${field}: ${value}`,
        ).toEqual([400, 'INVALID_AMOUNT', field]);
      }
    }
    // A key spelt with escapes is the same key; its number is judged on its text all the same.
    const escaped = await send(
      'POST',
      '/v1/usage',
      t.service,
      '{"member":"alice@exact.test","\\u0063redits":1e-7}',
    );
    expect([escaped.status, escaped.body.error?.field]).toEqual([400, 'credits']);
    expect(await snapshot()).toBe(before);

    // The same text, given as exact decimals, is fine; numbers count as the decimal they spell.
    const ok = async (raw: string, credits: string) => {
      const res = await send('POST', '/v1/usage', t.service, raw);
      expect([res.status, res.body.credits], raw).toEqual([201, credits]);
    };
    await ok('{"member":"alice@exact.test","credits":1.5}', '1.5');
    await ok('{"member":"alice@exact.test","credits":"0.000001"}', '0.000001');
    await ok('{"member":"alice@exact.test","credits":12.500000}', '12.5');
    await ok('{"member":"alice@exact.test","credits":0}', '0');
    const approved = await send(
      'POST',
      `/v1/requests/${pending.body.id}/approve`,
      t.admin,
      '{"amount":0.000001}',
    );
    expect(approved.body).toMatchObject({ status: 'approved', approvedAmount: '0.000001' });
    expect(await verify()).toMatch(/^ok: /);
  });

  it('costUsd × creditFactor is rounded half away from zero to 6 places, the same in the counters and the ledger', async () => {
    expect((await json('PATCH', '/v1/settings', t.admin, { creditFactor: '0.5' })).status).toBe(200);
    const usage = await json('POST', '/v1/usage', t.service, {
      member: 'carol@exact.test',
      costUsd: '0.000003',
    });
    expect(usage.body.credits).toBe('0.000002'); // 0.0000015
    const hold = await json('POST', '/v1/reservations', t.service, {
      member: 'carol@exact.test',
      costUsd: 0.000001,
    });
    expect(hold.body.credits).toBe('0.000001'); // 0.0000005
    const settled = await json('POST', `/v1/reservations/${hold.body.id}/settle`, t.service, {
      costUsd: '0.000005',
    });
    expect(settled.body.credits).toBe('0.000003'); // 0.0000025
    const ledger = await store.query<{ credits: string; charges: Record<string, string> }>(
      `SELECT credits::text, charges FROM ledger_entries WHERE account_id = 'exact'
          AND member_email = 'carol@exact.test' AND kind = 'usage' ORDER BY entry_id`,
    );
    expect(ledger.rows.map((r) => [r.credits, r.charges['member:carol@exact.test']])).toEqual([
      ['0.000002', '0.000002'],
      ['0.000003', '0.000003'],
    ]);
    expect(await verify()).toMatch(/^ok: /);
    expect((await json('PATCH', '/v1/settings', t.admin, { creditFactor: '1' })).status).toBe(200);
  });

  it('nothing in a body is coerced: a string is not an integer', async () => {
    const res = await json('POST', '/v1/reservations', t.service, {
      member: 'alice@exact.test',
      credits: '1',
      ttlSeconds: '60',
    });
    expect([res.status, res.body.error?.code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});

describe('idempotency keys', () => {
  it('a key longer than 200 characters is refused, never cut to a replay of another', async () => {
    const long = 'k'.repeat(200);
    const first = await json(
      'POST',
      '/v1/usage',
      t.service,
      { member: 'alice@exact.test', credits: '1' },
      {
        'idempotency-key': long,
      },
    );
    expect(first.status).toBe(201);
    const before = await snapshot();
    const other = await json(
      'POST',
      '/v1/usage',
      t.service,
      { member: 'alice@exact.test', credits: '2' },
      {
        'idempotency-key': `${long}x`,
      },
    );
    expect([other.status, other.body.error?.code]).toEqual([400, 'IDEMPOTENCY_KEY_INVALID']);
    const signup = await json(
      'POST',
      '/v1/users',
      t.service,
      { email: 'new@exact.test' },
      {
        'idempotency-key': `${long}x`,
      },
    );
    expect([signup.status, signup.body.error?.code]).toEqual([400, 'IDEMPOTENCY_KEY_INVALID']);
    const empty = await json(
      'POST',
      '/v1/usage',
      t.service,
      { member: 'alice@exact.test', credits: '3' },
      {
        'idempotency-key': '',
      },
    );
    expect([empty.status, empty.body.error?.code]).toEqual([400, 'IDEMPOTENCY_KEY_INVALID']);
    expect(await snapshot()).toBe(before);
    const replay = await json(
      'POST',
      '/v1/usage',
      t.service,
      { member: 'alice@exact.test', credits: '1' },
      {
        'idempotency-key': long,
      },
    );
    expect(replay.body).toEqual(first.body);
  });

  it("keys are scoped to the caller's role: a service key does not block or replay the admin's", async () => {
    const key = { 'idempotency-key': 'shared-key' };
    const service = await json(
      'POST',
      '/v1/usage',
      t.service,
      { member: 'alice@exact.test', credits: '1' },
      key,
    );
    const admin = await json('POST', '/v1/usage', t.admin, { member: 'alice@exact.test', credits: '2' }, key);
    expect([service.status, admin.status]).toEqual([201, 201]);
    expect(admin.body.id).not.toBe(service.body.id);
    const again = await json('POST', '/v1/usage', t.admin, { member: 'alice@exact.test', credits: '2' }, key);
    expect(again.body).toEqual(admin.body);
    // A second service token shares the role's keys: a retry with a rotated token still replays.
    const rotated = (await createToken(store, { accountId: 'exact', role: 'service' })).token;
    const retry = await json('POST', '/v1/usage', rotated, { member: 'alice@exact.test', credits: '1' }, key);
    expect(retry.body).toEqual(service.body);
  });

  it("usage, reservations and requests share the caller's keys; the other POSTs also scope theirs by route", async () => {
    const key = (k: string) => ({ 'idempotency-key': k });
    const hold = { member: 'carol@exact.test', credits: '1' };
    // One namespace for the three ledger writes: a usage key sent again on POST /v1/reservations is a reuse.
    const used = await json(
      'POST',
      '/v1/usage',
      t.service,
      { member: 'carol@exact.test', credits: '1' },
      key('one-ns'),
    );
    expect(used.status).toBe(201);
    const before = await snapshot();
    const reused = await json('POST', '/v1/reservations', t.service, hold, key('one-ns'));
    expect([reused.status, reused.body.error?.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    expect(await snapshot()).toBe(before);
    // Settle and release: one key on two routes is two requests; on the same route for another reservation,
    // it is a reuse.
    const [a, b, c] = [
      await json('POST', '/v1/reservations', t.service, hold),
      await json('POST', '/v1/reservations', t.service, hold),
      await json('POST', '/v1/reservations', t.service, hold),
    ];
    const released = await json(
      'POST',
      `/v1/reservations/${a.body.id}/release`,
      t.service,
      {},
      key('by-route'),
    );
    const settled = await json(
      'POST',
      `/v1/reservations/${b.body.id}/settle`,
      t.service,
      { credits: '1' },
      key('by-route'),
    );
    expect([released.status, settled.status]).toEqual([200, 200]);
    const other = await json('POST', `/v1/reservations/${c.body.id}/release`, t.service, {}, key('by-route'));
    expect([other.status, other.body.error?.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    const again = await json('POST', `/v1/reservations/${a.body.id}/release`, t.service, {}, key('by-route'));
    expect(again).toEqual(released);
  });
});

describe('idempotency keys are text', () => {
  /** A header carries bytes: what a client sends for a non-ASCII key is its UTF-8 (Node reads them as latin1). */
  const header = (key: string) => ({ 'idempotency-key': Buffer.from(key, 'utf8').toString('latin1') });
  const usage = { member: 'carol@exact.test', credits: '0.5' };
  const event = (key: string) => ({ idempotencyKey: key, ...usage });

  it('a non-ASCII key is one key in the header and in a batch event, and its limit counts characters', async () => {
    // 157 characters, 314 bytes of UTF-8.
    const key = `ключ-🙂-${'é'.repeat(150)}`;
    const single = await json('POST', '/v1/usage', t.service, usage, header(key));
    expect(single.status).toBe(201);
    const before = await snapshot();
    // The same event under the same key in a batch replays it: one charge.
    const batch = await json('POST', '/v1/usage/batch', t.service, { events: [event(key)] });
    expect(batch.body.results).toEqual([{ status: 201, result: single.body }]);
    expect(await snapshot()).toBe(before);

    // 200 characters pass in both places (each emoji is two UTF-16 units and four bytes); 201 do not.
    const emoji = '🙂'.repeat(200);
    const ok = await json('POST', '/v1/usage', t.service, usage, header(emoji));
    expect(ok.status).toBe(201);
    const again = await json('POST', '/v1/usage/batch', t.service, { events: [event(emoji)] });
    expect(again.body.results).toEqual([{ status: 201, result: ok.body }]);
    const long = `${emoji}x`;
    const refusedHeader = await json('POST', '/v1/usage', t.service, usage, header(long));
    expect([refusedHeader.status, refusedHeader.body.error?.code]).toEqual([400, 'IDEMPOTENCY_KEY_INVALID']);
    const refusedEvent = await json('POST', '/v1/usage/batch', t.service, { events: [event(long)] });
    expect((refusedEvent.body.results as { status: number; error: unknown }[])[0]).toMatchObject({
      status: 400,
      error: { code: 'IDEMPOTENCY_KEY_INVALID', field: 'events[0].idempotencyKey' },
    });
  });

  it('a key that is not Unicode text is refused as IDEMPOTENCY_KEY_INVALID, not as a database error', async () => {
    const before = await snapshot();
    // A header whose bytes are not UTF-8 (a lone latin1 é).
    const latin1 = await json('POST', '/v1/usage', t.service, usage, { 'idempotency-key': 'caf\u00e9' });
    expect([latin1.status, latin1.body.error?.code]).toEqual([400, 'IDEMPOTENCY_KEY_INVALID']);
    // U+0000 and an unpaired surrogate cannot be stored as text.
    const batch = await json('POST', '/v1/usage/batch', t.service, {
      events: [event('a\u0000b'), event('\ud800'), event('tail\udc00')],
    });
    expect(batch.body.results).toEqual(
      [0, 1, 2].map((i) => ({
        status: 400,
        error: expect.objectContaining({
          code: 'IDEMPOTENCY_KEY_INVALID',
          field: `events[${i}].idempotencyKey`,
        }) as unknown,
      })),
    );
    expect(await snapshot()).toBe(before);
  });

  it("a member's keys are its own even when one e-mail is another's with a colon added", async () => {
    // `alice@exact.test` with key `c:d` and `alice@exact.test:c` with key `d` are two members' two keys.
    const signup = await json('POST', '/v1/users', t.service, { email: 'alice@exact.test:c' });
    expect(signup.status).toBe(201);
    const other = (
      await createToken(store, { accountId: 'exact', role: 'member', member: 'alice@exact.test:c' })
    ).token;
    const mine = await json(
      'POST',
      '/v1/requests',
      t.alice,
      { amount: '1', reason: 'mine' },
      {
        'idempotency-key': 'c:d',
      },
    );
    const theirs = await json(
      'POST',
      '/v1/requests',
      other,
      { amount: '1', reason: 'theirs' },
      {
        'idempotency-key': 'd',
      },
    );
    expect([mine.status, theirs.status]).toEqual([201, 201]);
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect(theirs.body.member).toBe('alice@exact.test:c');
  });
});

describe('text the database cannot store', () => {
  it('U+0000 in a string or in metadata is 400 VALIDATION_FAILED that says so, alone in a batch', async () => {
    const before = await snapshot();
    const usage = { member: 'carol@exact.test', credits: '1' };
    for (const body of [
      { ...usage, model: 'a\u0000b' },
      { ...usage, metadata: { note: 'a\u0000b' } },
    ]) {
      const single = await json('POST', '/v1/usage', t.service, body);
      expect([single.status, single.body.error?.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect(single.body.error?.message).toMatch(/U\+0000/);
      const batch = await json('POST', '/v1/usage/batch', t.service, {
        events: [{ idempotencyKey: 'nul-1', ...body }],
      });
      expect(batch.body.results).toEqual([
        {
          status: 400,
          error: expect.objectContaining({
            code: 'VALIDATION_FAILED',
            message: expect.stringMatching(/U\+0000/) as unknown,
          }) as unknown,
        },
      ]);
    }
    const deny = await json('PATCH', '/v1/groups/eng', t.admin, { name: 'x\u0000' });
    expect([deny.status, deny.body.error?.message]).toEqual([400, expect.stringMatching(/U\+0000/)]);
    expect(await snapshot()).toBe(before);
  });
});

describe('body depth', () => {
  it('a body nested deeper than the limit is 400 BODY_TOO_DEEP, not a 500', async () => {
    const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    const usage = (metadata: string) => `{"member":"alice@exact.test","credits":"1","metadata":${metadata}}`;
    const res = await send('POST', '/v1/usage', t.service, usage(deep(4500)));
    expect([res.status, res.body.error?.code]).toEqual([400, 'BODY_TOO_DEEP']);
    const array = await send('POST', '/v1/usage', t.service, '['.repeat(4500) + ']'.repeat(4500));
    expect([array.status, array.body.error?.code]).toEqual([400, 'BODY_TOO_DEEP']);
    // Brackets inside strings are text, not nesting.
    const text = JSON.stringify({ note: '['.repeat(100) + '{"\\'.repeat(100) });
    expect((await send('POST', '/v1/usage', t.service, usage(text))).status).toBe(201);
    // Up to the limit (32 levels, the body being the first) is fine.
    expect((await send('POST', '/v1/usage', t.service, usage(deep(31)))).status).toBe(201);
    expect((await send('POST', '/v1/usage', t.service, usage(deep(32)))).body.error?.code).toBe(
      'BODY_TOO_DEEP',
    );
  });
});

describe('balances and lists', () => {
  it('`used` is the whole cycle (150 events show as 150); the history is a separate paginated list', async () => {
    for (let i = 0; i < 15; i++) {
      await Promise.all(
        Array.from({ length: 10 }, () =>
          json('POST', '/v1/usage', t.service, { member: 'dave@exact.test', credits: '1' }).then((r) =>
            expect(r.status).toBe(201),
          ),
        ),
      );
    }
    // dave's allowance is 10: the rest came from the pool, so no single counter of his holds 150.
    const view = await send('GET', '/v1/members/dave@exact.test', t.dave);
    expect(view.body).toMatchObject({ email: 'dave@exact.test', used: '150' });
    expect(view.body).not.toHaveProperty('usage');

    const first = await send('GET', '/v1/members/dave@exact.test/history?limit=100', t.dave);
    expect(first.status).toBe(200);
    expect((first.body.items as unknown[]).length).toBe(100);
    const rest = await send(
      'GET',
      `/v1/members/dave@exact.test/history?cursor=${first.body.nextCursor}`,
      t.dave,
    );
    expect((rest.body.items as unknown[]).length).toBe(50);
    expect(rest.body.nextCursor).toBeNull();
    expect((rest.body.items as { kind: string; credits: string }[])[0]).toMatchObject({
      kind: 'usage',
      credits: '1',
    });
    expect((await send('GET', '/v1/members/alice@exact.test/history', t.dave)).status).toBe(403);
  });

  it('a member has at most 20 pending requests; more is 429 TOO_MANY_PENDING_REQUESTS, even all at once', async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        json('POST', '/v1/requests', t.dave, { amount: '1', reason: `r${i}` }),
      ),
    );
    expect(results.filter((r) => r.status === 201).length).toBe(20);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused.map((r) => [r.status, r.body.error?.code])).toEqual(
      Array.from({ length: 10 }, () => [429, 'TOO_MANY_PENDING_REQUESTS']),
    );
    const pending = await store.query(
      "SELECT 1 FROM requests WHERE account_id = 'exact' AND member_email = 'dave@exact.test' AND status = 'pending'",
    );
    expect(pending.rowCount).toBe(20);
    // Deciding one makes room for one more.
    const id = (results.find((r) => r.status === 201)!.body.id as string) ?? '';
    expect((await json('POST', `/v1/requests/${id}/deny`, t.admin, {})).status).toBe(200);
    expect((await json('POST', '/v1/requests', t.dave, { amount: '1', reason: 'again' })).status).toBe(201);
    expect((await json('POST', '/v1/requests', t.dave, { amount: '1', reason: 'over' })).status).toBe(429);
  });

  it('every list is a page: items and nextCursor, limit ≤ 500, walked to the end without repeats', async () => {
    const all = await store.query<{ id: string }>(
      "SELECT request_id::text AS id FROM requests WHERE account_id = 'exact' ORDER BY created_at DESC, request_id DESC",
    );
    expect(all.rowCount).toBeGreaterThan(20);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await send('GET', `/v1/requests?limit=7${cursor ? `&cursor=${cursor}` : ''}`, t.admin);
      expect(page.status).toBe(200);
      const items = page.body.items as { id: string }[];
      expect(items.length).toBeLessThanOrEqual(7);
      seen.push(...items.map((r) => r.id));
      cursor = page.body.nextCursor as string | null;
    } while (cursor);
    expect(seen).toEqual(all.rows.map((r) => r.id));

    const first = await send('GET', '/v1/requests', t.admin);
    expect((first.body.items as unknown[]).length).toBe(Math.min(50, all.rowCount));
    const own = await send('GET', '/v1/requests?status=pending&limit=500', t.dave);
    expect((own.body.items as { member: string }[]).every((r) => r.member === 'dave@exact.test')).toBe(true);
    expect((own.body.items as unknown[]).length).toBe(20);

    for (const bad of ['/v1/requests?limit=501', '/v1/requests?limit=0', '/v1/groups?limit=abc']) {
      expect((await send('GET', bad, t.admin)).body.error?.code, bad).toBe('VALIDATION_FAILED');
    }
    const forged = (key: string[]) => Buffer.from(JSON.stringify(key)).toString('base64url');
    for (const bad of [
      '/v1/requests?cursor=nope',
      `/v1/requests?cursor=${forged(['2026-01-01', 'x'])}`,
      `/v1/groups?cursor=${forged(['NOT A KEY'])}`,
      `/v1/members/dave@exact.test/history?cursor=${forged(['-1'])}`,
      // Shaped like a cursor but not a value the database can compare with: INVALID_CURSOR, not its error.
      `/v1/members/dave@exact.test/history?cursor=${forged(['9999999999999999999'])}`,
      `/v1/requests?cursor=${forged(['2026-13-45T99:99:99.000000Z', '00000000-0000-0000-0000-000000000000'])}`,
      `/v1/requests?cursor=${forged(['0000-01-01T00:00:00.000000Z', '00000000-0000-0000-0000-000000000000'])}`,
      `/v1/requests?cursor=${forged(['2026-01-01T00:00:00.000000Z', '-'.repeat(36)])}`,
      `/v1/groups/eng/members?cursor=${forged(['a\u0000b'])}`,
      `/v1/groups/eng/members?cursor=${forged(['\ud800'])}`,
    ]) {
      const res = await send('GET', bad, t.admin);
      expect([res.status, res.body.error?.code], bad).toEqual([400, 'INVALID_CURSOR']);
    }

    const members: string[] = [];
    let next: string | null = null;
    do {
      const page = await send(
        'GET',
        `/v1/groups/eng/members?limit=2${next ? `&cursor=${next}` : ''}`,
        t.admin,
      );
      expect(page.body.total).toBe(3);
      members.push(...(page.body.items as { email: string }[]).map((m) => m.email));
      next = page.body.nextCursor as string | null;
    } while (next);
    expect(members).toEqual(['alice@exact.test', 'carol@exact.test', 'dave@exact.test']);

    const groups = await send('GET', '/v1/groups?limit=1', t.admin);
    expect((groups.body.items as { key: string }[]).map((g) => g.key)).toEqual(['eng']);
    const last = await send('GET', `/v1/groups?limit=1&cursor=${groups.body.nextCursor}`, t.admin);
    expect((last.body.items as { key: string }[]).map((g) => g.key)).toEqual(['default']);
    expect(last.body.nextCursor).toBeNull();
  });
});
