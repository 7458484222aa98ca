// POST /v1/usage/batch over HTTP against a real `credits serve` process on PostgreSQL: per-event answers in
// order (accepted, refused, invalid), each event charged once however often its batch is sent, no overspend
// under concurrent batches, and the 1,000-event limit.
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { pgWithConfig } from '../support/databases.js';
import { startServeProcess } from '../support/serve-process.js';
import { createToken } from '../../src/state/tokens.js';
import { verifyLedger } from '../../src/ledger/verify.js';
import type { Store } from '../../src/state/store.js';

const config = `version: 1
account:
  id: batch
  creditLimit: 1000
  creditFactor: 2
groups:
  eng:
    allocation: 500
    members:
      alice@b.test: 10
      pool1@b.test: {}
      pool2@b.test: {}
  default:
    allocation: 100
`;

const servers: ChildProcess[] = [];
afterAll(() => servers.forEach((s) => s.kill('SIGTERM')));

interface Item {
  status: number;
  result?: {
    id: string;
    member: string;
    credits: string;
    charged: boolean;
    remaining: Record<string, string>;
  };
  error?: { code: string; message: string; [k: string]: unknown };
}

async function setup() {
  const { url, store } = await pgWithConfig(config);
  const { token } = await createToken(store, { accountId: 'batch', role: 'service' });
  const server = await startServeProcess(url);
  servers.push(server.child);
  const post = async (body: string, path = '/v1/usage/batch', headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: res.status, body: (await res.json()) as { results: Item[]; error?: { code: string } } };
  };
  return { store, post, base: server.base, token };
}

const entries = async (store: Store) =>
  Number(
    (
      await store.query<{ n: string }>(
        "SELECT count(*) AS n FROM ledger_entries WHERE account_id = 'batch' AND kind = 'usage'",
      )
    ).rows[0]!.n,
  );

describe('POST /v1/usage/batch', () => {
  it('answers every event in its place: accepted, refused, invalid', async () => {
    const { store, post } = await setup();
    // Raw text: nested JSON numbers are judged by the text the client sent.
    const body = `{"events": [
      {"idempotencyKey": "a1", "member": "alice@b.test", "credits": "3"},
      {"idempotencyKey": "a2", "member": "alice@b.test", "credits": 2.5},
      {"idempotencyKey": "a3", "member": "alice@b.test", "credits": "50"},
      {"idempotencyKey": "a4", "member": "alice@b.test", "credits": 1.0000001},
      {"idempotencyKey": "a5", "member": "alice@b.test", "credits": "1e-7"},
      {"idempotencyKey": "a6", "member": "nobody@b.test", "credits": "1"},
      {"member": "alice@b.test", "credits": "1"},
      {"idempotencyKey": "${'k'.repeat(201)}", "member": "alice@b.test", "credits": "1"},
      {"idempotencyKey": "a9", "member": "alice@b.test", "credits": "1", "extra": true},
      {"idempotencyKey": "a1", "member": "alice@b.test", "credits": "4"},
      {"idempotencyKey": "a11", "member": "pool1@b.test", "costUsd": 0.5, "model": "m", "metadata": {"n": 1.5}},
      {"idempotencyKey": "a12", "member": "alice@b.test", "credits": 1e2},
      {"idempotencyKey": "a13", "member": "alice@b.test", "credits": "1", "costUsd": "1"},
      {"idempotencyKey": "a2", "member": "ALICE@b.test", "credits": "2.50"}
    ]}`;
    const { status, body: out } = await post(body);
    expect(status).toBe(200);
    const r = out.results;
    expect(r.map((x) => x.status)).toEqual([
      201, 201, 402, 400, 400, 404, 400, 400, 400, 422, 201, 400, 400, 201,
    ]);
    expect(r[0]!.result).toMatchObject({ member: 'alice@b.test', credits: '3', charged: true });
    expect(r[0]!.result!.remaining.member).toBe('7');
    expect(r[1]!.result).toMatchObject({ credits: '2.5', remaining: { member: '4.5' } });
    expect(r[2]!.error).toMatchObject({ code: 'BUDGET_EXCEEDED', blockedBy: 'member' });
    expect(r[2]!.error!.remaining).toEqual({
      member: '4.5',
      group: '494.5',
      account: '994.5',
      rolledOver: '0',
    });
    expect(r[3]!.error).toMatchObject({ code: 'INVALID_AMOUNT', field: 'credits' });
    expect(r[4]!.error).toMatchObject({ code: 'INVALID_AMOUNT', field: 'credits' });
    expect(r[5]!.error).toMatchObject({ code: 'MEMBER_NOT_FOUND' });
    expect(r[6]!.error!.code).toBe('VALIDATION_FAILED');
    expect(r[6]!.error!.message).toContain('idempotencyKey');
    expect(r[7]!.error).toMatchObject({ code: 'IDEMPOTENCY_KEY_INVALID', limit: 200 });
    expect(r[8]!.error!.code).toBe('VALIDATION_FAILED');
    expect(r[9]!.error!.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(r[10]!.result).toMatchObject({ member: 'pool1@b.test', credits: '1' });
    expect(r[11]!.error).toMatchObject({ code: 'INVALID_AMOUNT' });
    expect(r[12]!.error!.code).toBe('VALIDATION_FAILED');
    // The same key and the same event (amounts and e-mails compare canonically): one event, replayed.
    expect(r[13]!.result).toEqual(r[1]!.result);
    for (const item of r) expect(JSON.stringify(item)).not.toMatch(/stack|at .*\.js/);
    expect(await entries(store)).toBe(3);
    expect((await verifyLedger(store, 'batch')).mismatches).toEqual([]);
  });

  it('charges each event once when a batch is sent again, or overlaps an earlier one', async () => {
    const { store, post } = await setup();
    const ev = (i: number) => ({ idempotencyKey: `r${i}`, member: 'pool2@b.test', credits: '1.25' });
    const first = await post(JSON.stringify({ events: [0, 1, 2, 3].map(ev) }));
    expect(first.body.results.map((x) => x.status)).toEqual([201, 201, 201, 201]);
    const again = await post(JSON.stringify({ events: [0, 1, 2, 3].map(ev) }));
    expect(again.body.results).toEqual(first.body.results);
    const overlap = await post(JSON.stringify({ events: [2, 3, 4, 5].map(ev) }));
    expect(overlap.body.results.map((x) => x.status)).toEqual([201, 201, 201, 201]);
    expect(overlap.body.results.slice(0, 2)).toEqual(first.body.results.slice(2));
    expect(await entries(store)).toBe(6);
    // An event's key is POST /v1/usage's Idempotency-Key, scoped the same way: each replays the other.
    const single = await post(JSON.stringify({ member: 'pool2@b.test', credits: '1.25' }), '/v1/usage', {
      'idempotency-key': 'r5',
    });
    expect(single.status).toBe(201);
    expect(single.body).toEqual(overlap.body.results[3]!.result);
    await post(JSON.stringify({ member: 'pool2@b.test', credits: '2' }), '/v1/usage', {
      'idempotency-key': 'r6',
    });
    const mixed = await post(JSON.stringify({ events: [ev(6), ev(7)] }));
    expect(mixed.body.results.map((x) => x.status)).toEqual([422, 201]);
    expect(await entries(store)).toBe(8);
    const used = await store.query<{ u: string }>(
      "SELECT sum(credits) AS u FROM ledger_entries WHERE account_id = 'batch' AND member_email = 'pool2@b.test'",
    );
    expect(Number(used.rows[0]!.u)).toBe(7 * 1.25 + 2);
    expect((await verifyLedger(store, 'batch')).mismatches).toEqual([]);
  });

  it('never overspends under concurrent, overlapping batches', async () => {
    const { store, post } = await setup();
    const members = ['alice@b.test', 'pool1@b.test', 'pool2@b.test'];
    // 8 batches of 300 events, each event 0.5 credits (the account holds 1,000, the group 500): half the
    // batches repeat another batch's keys.
    const batch = (b: number) =>
      JSON.stringify({
        events: Array.from({ length: 300 }, (_, i) => ({
          idempotencyKey: `c${b % 4}-${i}`,
          member: members[i % 3],
          credits: '0.5',
        })),
      });
    const outs = await Promise.all(Array.from({ length: 8 }, (_, b) => post(batch(b))));
    const statuses = new Map<number, number>();
    for (const o of outs) {
      expect(o.status).toBe(200);
      for (const r of o.body.results) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    expect([...statuses.keys()].every((s) => [201, 402, 409].includes(s))).toBe(true);
    expect(statuses.get(402)).toBeGreaterThan(0);
    const over = await store.query<{ n: string }>(
      `SELECT count(*) AS n FROM (SELECT sum(capacity) c, sum(used) u FROM budget_counters
        WHERE account_id = 'batch' GROUP BY cycle_no, scope) s WHERE u > c`,
    );
    expect(over.rows[0]!.n).toBe('0');
    const keys = await store.query<{ n: string; d: string }>(
      `SELECT count(*) AS n, count(DISTINCT idem_key) AS d FROM idempotency_keys WHERE account_id = 'batch'`,
    );
    expect(Number(keys.rows[0]!.n)).toBe(await entries(store));
    expect(keys.rows[0]!.n).toBe(keys.rows[0]!.d);
    expect((await verifyLedger(store, 'batch')).mismatches).toEqual([]);
  });

  it('takes 1,000 events and refuses 1,001 with 400, recording nothing', async () => {
    const { store, post } = await setup();
    const events = (n: number, p: string) =>
      Array.from({ length: n }, (_, i) => ({
        idempotencyKey: `${p}${i}`,
        member: 'pool1@b.test',
        credits: 0.01,
      }));
    const big = await post(JSON.stringify({ events: events(1001, 'x') }));
    expect(big.status).toBe(400);
    expect(big.body.error!.code).toBe('VALIDATION_FAILED');
    expect(await entries(store)).toBe(0);
    const ok = await post(JSON.stringify({ events: events(1000, 'y') }));
    expect(ok.status).toBe(200);
    expect(ok.body.results.filter((r) => r.status === 201)).toHaveLength(1000);
    expect(await entries(store)).toBe(1000);
    const huge = await post(
      JSON.stringify({
        events: [{ idempotencyKey: 'h', member: 'pool1@b.test', model: 'm'.repeat(1100 * 1024) }],
      }),
    );
    expect(huge.status).toBe(413);
    expect(huge.body.error).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      message: expect.stringContaining('1048576'),
    });
    const empty = await post(JSON.stringify({ events: [] }));
    expect(empty.status).toBe(400);
    expect((await post(JSON.stringify({ events: [5] }))).status).toBe(400);
  });
});
