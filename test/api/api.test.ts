// The runtime API over real HTTP on real PostgreSQL: the new-user flow, the authorisation matrix generated
// from the route table, idempotency, coded errors and no 5xx for hostile input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { freshPgStore } from '../support/databases.js';
import { buildServer } from '../../src/api/server.js';
import { ROUTES } from '../../src/api/routes.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { createToken, type Role } from '../../src/state/tokens.js';
import type { Store } from '../../src/state/store.js';
import { arbitraryFor } from '../support/schema-arbitrary.js';

const config = (id: string, managed = '') => `version: 1
account:
  id: ${id}
  creditLimit: 1000
  creditFactor: 1
  signupCredits: 0
${managed}groups:
  eng:
    allocation: 500
    autoApprove: 0
    members:
      alice@${id}.test: 50
      bob@${id}.test: {}
  default:
    allocation: 100
`;

/** The plan of config(id) against the live state, and applying it. */
const planFor = (id: string, managed = '') =>
  makePlan(store, { bytes: config(id, managed), file: `${id}.yaml` });
const applyConfig = async (id: string, managed = '') =>
  applyPlan(store, await planFor(id, managed), { actor: 'test' });

/** A plan change that restores a value edited outside credits.yaml. */
const restores = (address: string, before: string, after: string) =>
  expect.objectContaining({ address, before, after, drift: { applied: after } });

let store: Store;
let app: FastifyInstance;
let base: string;
const tokens: Record<string, Record<Role, string>> = {};

async function call(
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json as Record<string, unknown> & { error?: { code: string } } };
}

beforeAll(async () => {
  store = await freshPgStore({ max: 20 });
  for (const id of ['one', 'two']) {
    await applyConfig(id);
    tokens[id] = {
      admin: (await createToken(store, { accountId: id, role: 'admin' })).token,
      service: (await createToken(store, { accountId: id, role: 'service' })).token,
      member: (await createToken(store, { accountId: id, role: 'member', member: `alice@${id}.test` })).token,
    };
  }
  app = await buildServer({ store, rateLimit: 100_000 });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app?.close();
});

describe('API: the new-user flow', () => {
  it('usage until blocked, a request, approval, and the balance changes', async () => {
    const t = tokens.one!;
    expect((await call('GET', '/v1/overview')).status).toBe(401);
    const ov = await call('GET', '/v1/overview', t.admin);
    expect(ov.status).toBe(200);
    expect(ov.body).toMatchObject({ account: { id: 'one' }, creditLimit: '1000', used: '0' });

    const used = await call(
      'POST',
      '/v1/usage',
      t.service,
      { member: 'alice@one.test', credits: '40' },
      { 'idempotency-key': 'u1' },
    );
    expect(used.status).toBe(201);
    expect(used.body).toMatchObject({ member: 'alice@one.test', credits: '40', remaining: { member: '10' } });
    const blocked = await call('POST', '/v1/usage', t.service, { member: 'alice@one.test', credits: 20 });
    expect(blocked.status).toBe(402);
    expect(blocked.body.error).toMatchObject({
      code: 'BUDGET_EXCEEDED',
      blockedBy: 'member',
      remaining: { member: '10' },
    });

    const req = await call('POST', '/v1/requests', t.member, { amount: '30', reason: 'demo day' });
    expect(req.status).toBe(201);
    expect(req.body).toMatchObject({ status: 'pending', amount: '30', member: 'alice@one.test' });
    expect((await call('POST', `/v1/requests/${req.body.id}/approve`, t.member, {})).status).toBe(403);
    const approved = await call('POST', `/v1/requests/${req.body.id}/approve`, t.admin, { amount: 25 });
    expect(approved.body).toMatchObject({ status: 'approved', approvedAmount: '25' });
    expect((await call('POST', `/v1/requests/${req.body.id}/deny`, t.admin, {})).status).toBe(409);

    const me = await call('GET', '/v1/members/alice@one.test', t.member);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ used: '40', remaining: { member: '35' } });
    expect((await call('GET', '/v1/members/bob@one.test', t.member)).status).toBe(403);
    expect(
      (await call('POST', '/v1/usage', t.service, { member: 'alice@one.test', credits: '35' })).status,
    ).toBe(201);
  });

  it('admin edits become drift in the next plan, and managedBy: git refuses them', async () => {
    const t = tokens.one!;
    const edit = await call('PATCH', '/v1/groups/eng', t.admin, { allocation: '450' });
    expect(edit.status).toBe(200);
    const plan = await planFor('one');
    expect(plan.plan.changes).toEqual([restores('group.eng.allocation', '450', '500')]);
    await applyConfig('one', '  managedBy: git\n');
    const refused = await call('PATCH', '/v1/settings', t.admin, { creditLimit: 5 });
    expect(refused.status).toBe(409);
    expect(refused.body.error!.code).toBe('MANAGED_BY_GIT');
  });

  it('idempotency: same key and body replays; a different body is 422', async () => {
    const t = tokens.two!;
    const a = await call(
      'POST',
      '/v1/usage',
      t.service,
      { member: 'bob@two.test', credits: '5' },
      { 'idempotency-key': 'same' },
    );
    const b = await call(
      'POST',
      '/v1/usage',
      t.service,
      { member: 'bob@two.test', credits: '5' },
      { 'idempotency-key': 'same' },
    );
    expect(b.body).toEqual(a.body);
    const c = await call(
      'POST',
      '/v1/usage',
      t.service,
      { member: 'bob@two.test', credits: '6' },
      { 'idempotency-key': 'same' },
    );
    expect(c.status).toBe(422);
  });

  it('idempotency: concurrent duplicates give one effect (the others 409 or a replay)', async () => {
    const t = tokens.two!;
    const count = async () =>
      Number(
        (
          await store.query<{ n: string }>(
            "SELECT count(*) AS n FROM ledger_entries WHERE account_id = 'two' AND kind = 'usage'",
          )
        ).rows[0]!.n,
      );
    const before = await count();
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        call(
          'POST',
          '/v1/usage',
          t.service,
          { member: 'bob@two.test', credits: '1' },
          { 'idempotency-key': 'burst' },
        ),
      ),
    );
    expect(results.every((r) => r.status === 201 || r.status === 409)).toBe(true);
    expect(new Set(results.filter((r) => r.status === 201).map((r) => r.body.id)).size).toBe(1);
    expect((await count()) - before).toBe(1);
  });

  it('cadence and time zone edits start a fresh cycle now, show as drift, and apply restores them', async () => {
    await applyConfig('three');
    const admin = (await createToken(store, { accountId: 'three', role: 'admin' })).token;
    const service = (await createToken(store, { accountId: 'three', role: 'service' })).token;
    expect(
      (await call('POST', '/v1/usage', service, { member: 'alice@three.test', credits: '10' })).status,
    ).toBe(201);
    const before = await call('GET', '/v1/overview', admin);
    expect(before.body).toMatchObject({ used: '10', cycle: { cadence: 'calendar-month', timezone: 'UTC' } });
    const cycleNo = (before.body.cycle as { number: number }).number;

    for (const [bad, code] of [
      [{ cadence: 'fortnightly' }, 'UNKNOWN_CADENCE'],
      [{ timezone: 'Mars/Olympus' }, 'UNKNOWN_TIMEZONE'],
      [{ cadence: '1d', timezone: '+01:00' }, 'UNKNOWN_TIMEZONE'],
    ] as const) {
      const refused = await call('PATCH', '/v1/settings', admin, bad);
      expect(refused.status).toBe(400);
      expect(refused.body.error!.code).toBe(code);
    }
    expect((await call('GET', '/v1/overview', admin)).body).toEqual(before.body);

    const t0 = Date.now();
    const edit = await call('PATCH', '/v1/settings', admin, { cadence: '1d', timezone: 'europe/berlin' });
    expect(edit.body).toEqual({ changed: 2 });
    const after = await call('GET', '/v1/overview', admin);
    const cycle = after.body.cycle as { number: number; start: string; end: string };
    expect(after.body).toMatchObject({ used: '0', cycle: { cadence: '1d', timezone: 'Europe/Berlin' } });
    expect(cycle.number).toBe(cycleNo + 1);
    expect(Date.parse(cycle.start)).toBeGreaterThanOrEqual(t0 - 1000);
    expect(Date.parse(cycle.end) - Date.parse(cycle.start)).toBe(86_400_000);
    const audit = await store.query<{ address: string; after_value: unknown }>(
      "SELECT address, after_value FROM audit_log WHERE account_id = 'three' AND source = 'api' ORDER BY address",
    );
    expect(audit.rows).toEqual([
      { address: 'account.cycle.cadence', after_value: '1d' },
      { address: 'account.cycle.timezone', after_value: 'Europe/Berlin' },
    ]);

    const plan = await planFor('three');
    expect(plan.plan.changes).toEqual([
      restores('account.cycle.cadence', '1d', 'calendar-month'),
      restores('account.cycle.timezone', 'Europe/Berlin', 'UTC'),
    ]);
    await applyPlan(store, plan, { actor: 'test' });
    const restored = await call('GET', '/v1/overview', admin);
    expect(restored.body).toMatchObject({ cycle: { cadence: 'calendar-month', timezone: 'UTC' } });
    expect((restored.body.cycle as { number: number }).number).toBe(cycleNo + 2);
    expect((await planFor('three')).plan.changes).toEqual([]);
  });

  it("admin edits that break the file's budget rules are refused with the rule's code and change nothing", async () => {
    await applyConfig('four');
    const admin = (await createToken(store, { accountId: 'four', role: 'admin' })).token;
    const serial = async () =>
      (
        await store.query<{ s: string }>(
          "SELECT state_serial::text AS s FROM accounts WHERE account_id = 'four'",
        )
      ).rows[0]!.s;
    const before = await serial();
    // creditLimit 1000; eng 500 (alice 50, bob from the pool); default 100.
    const refusals: [string, Record<string, string>, string, string][] = [
      ['/v1/groups/eng', { allocation: '950' }, 'ACCOUNT_OVER_LIMIT', 'groups are given 1050'],
      ['/v1/groups/eng', { allocation: '40' }, 'GROUP_OVER_BUDGET', 'members of group eng are given 50'],
      ['/v1/groups/eng', { autoApprove: '501' }, 'AUTO_APPROVE_OVER_BUDGET', 'autoApprove 501 of group eng'],
      [
        '/v1/members/alice@four.test',
        { allocation: '600' },
        'GROUP_OVER_BUDGET',
        "more than the group's 500",
      ],
      ['/v1/settings', { creditLimit: '599' }, 'ACCOUNT_OVER_LIMIT', "account's creditLimit 599"],
    ];
    for (const [path, body, code, message] of refusals) {
      const res = await call('PATCH', path, admin, body);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body.error).toMatchObject({ code, message: expect.stringContaining(message) });
    }
    expect(await serial()).toBe(before);
    expect((await planFor('four')).plan.changes).toEqual([]);
    const audit = await store.query("SELECT 1 FROM audit_log WHERE account_id = 'four' AND source = 'api'");
    expect(audit.rowCount).toBe(0);

    // Up to the limit is fine; a rule already broken outside credits (SQL) does not block other edits.
    expect((await call('PATCH', '/v1/groups/eng', admin, { allocation: '900' })).status).toBe(200);
    await store.query(
      "UPDATE groups SET allocation = 5000 WHERE account_id = 'four' AND group_key = 'default'",
    );
    expect((await call('PATCH', '/v1/members/alice@four.test', admin, { allocation: '60' })).status).toBe(
      200,
    );
  });

  it('in a group already over its budget, an edit that promises more is refused; one that promises less is not', async () => {
    await applyConfig('five');
    const admin = (await createToken(store, { accountId: 'five', role: 'admin' })).token;
    // eng's members are given 50 (alice) of its 500; cut the group below that outside credits (SQL).
    await store.query("UPDATE groups SET allocation = 30 WHERE account_id = 'five' AND group_key = 'eng'");
    const serial = async () =>
      (
        await store.query<{ s: string }>(
          "SELECT state_serial::text AS s FROM accounts WHERE account_id = 'five'",
        )
      ).rows[0]!.s;
    const before = await serial();
    const promisesMore: [string, Record<string, string>][] = [
      ['/v1/members/alice@five.test', { extra: '5' }],
      ['/v1/members/bob@five.test', { extra: '1' }],
      ['/v1/members/alice@five.test', { allocation: '51' }],
      ['/v1/groups/eng', { allocation: '20' }],
    ];
    for (const [path, body] of promisesMore) {
      const res = await call('PATCH', path, admin, body);
      expect([res.status, res.body.error?.code], `${path} ${JSON.stringify(body)}`).toEqual([
        400,
        'GROUP_OVER_BUDGET',
      ]);
    }
    expect(await serial()).toBe(before);
    // Promising less, or giving the group more, is an edit towards the rule: accepted.
    expect((await call('PATCH', '/v1/members/alice@five.test', admin, { allocation: '45' })).status).toBe(
      200,
    );
    expect((await call('PATCH', '/v1/groups/eng', admin, { allocation: '40' })).status).toBe(200);
  });

  it("idempotency keys are a member's own: the same key from two members makes two requests", async () => {
    const bob = (await createToken(store, { accountId: 'two', role: 'member', member: 'bob@two.test' }))
      .token;
    const alice = tokens.two!.member;
    const body = { amount: '1', reason: 'same words' };
    const fromAlice = await call('POST', '/v1/requests', alice, body, { 'idempotency-key': 'k1' });
    const fromBob = await call('POST', '/v1/requests', bob, body, { 'idempotency-key': 'k1' });
    expect([fromAlice.status, fromBob.status]).toEqual([201, 201]);
    expect(fromAlice.body.member).toBe('alice@two.test');
    expect(fromBob.body.member).toBe('bob@two.test');
    expect(fromBob.body.id).not.toBe(fromAlice.body.id);
    // Each still replays their own.
    expect((await call('POST', '/v1/requests', bob, body, { 'idempotency-key': 'k1' })).body).toEqual(
      fromBob.body,
    );
  });

  it('idempotency on other POSTs: a decision replayed with its key answers the same, not 409', async () => {
    const t = tokens.two!;
    const req = await call('POST', '/v1/requests', t.admin, {
      member: 'bob@two.test',
      amount: '1',
      reason: 'x',
    });
    const deny = (reason: string, key?: string) =>
      call(
        'POST',
        `/v1/requests/${req.body.id}/deny`,
        t.admin,
        { reason },
        key ? { 'idempotency-key': key } : {},
      );
    const first = await deny('no', 'd1');
    expect(first.status).toBe(200);
    expect(await deny('no', 'd1')).toEqual(first);
    expect((await deny('yes', 'd1')).status).toBe(422);
    expect((await deny('no')).status).toBe(409);
  });
});

/** Fills a route's URL with real ids of account `one`. */
async function pathFor(url: string): Promise<string> {
  const req = await call('POST', '/v1/requests', tokens.one!.admin, {
    member: 'bob@one.test',
    amount: '1',
    reason: 'matrix',
  });
  return url
    .replace(':key', 'eng')
    .replace(':email', 'alice@one.test')
    .replace(':id', String(req.body.id ?? '00000000-0000-4000-8000-000000000000'));
}

/**
 * Who may call what, stated here on its own (not read from the route table the server enforces), so that a
 * role added to or dropped from a route by mistake fails this test.
 */
const EXPECTED_ROLES: Record<string, Role[]> = {
  'GET /v1/overview': ['admin'],
  'GET /v1/groups': ['admin'],
  'GET /v1/groups/:key/members': ['admin'],
  'GET /v1/members/:email': ['admin', 'service', 'member'],
  'GET /v1/members/:email/history': ['admin', 'service', 'member'],
  'PATCH /v1/groups/:key': ['admin'],
  'PATCH /v1/members/:email': ['admin'],
  'PATCH /v1/settings': ['admin'],
  'POST /v1/users': ['admin', 'service'],
  'POST /v1/usage': ['admin', 'service'],
  'POST /v1/usage/batch': ['admin', 'service'],
  'POST /v1/reservations': ['admin', 'service'],
  'POST /v1/reservations/:id/settle': ['admin', 'service'],
  'POST /v1/reservations/:id/release': ['admin', 'service'],
  'POST /v1/requests': ['admin', 'member'],
  'GET /v1/requests': ['admin', 'member'],
  'POST /v1/requests/:id/approve': ['admin'],
  'POST /v1/requests/:id/deny': ['admin'],
  'POST /v1/cycle/reset': ['admin'],
  'GET /v1/usage': ['admin', 'service', 'member'],
  'GET /v1/usage/summary': ['admin', 'service', 'member'],
  'GET /v1/audit': ['admin'],
  'GET /v1/alerts': ['admin'],
  'GET /v1/me': ['member'],
};

describe('API: authorisation matrix (every route × 3 roles × 2 accounts)', () => {
  it('the expected role table names exactly the routes the server has', () => {
    expect(ROUTES.map((r) => `${r.method} ${r.url}`).sort()).toEqual(Object.keys(EXPECTED_ROLES).sort());
  });
  const cases = ROUTES.flatMap((r) =>
    (['admin', 'service', 'member'] as Role[]).flatMap((role) =>
      (['one', 'two'] as const).map((acct) => ({ r, role, acct })),
    ),
  );
  it.each(cases.map((c) => [`${c.r.method} ${c.r.url} as ${c.role} of ${c.acct}`, c] as const))(
    '%s',
    async (_name, c) => {
      const path = await pathFor(c.r.url);
      const body =
        c.r.method === 'GET'
          ? undefined
          : c.r.url.endsWith('/members/:email') || c.r.method === 'PATCH'
            ? { extra: '0' }
            : {};
      const res = await call(c.r.method, path, tokens[c.acct]![c.role], body);
      expect(res.status).toBeLessThan(500);
      const allowed = EXPECTED_ROLES[`${c.r.method} ${c.r.url}`] ?? [];
      if (!allowed.includes(c.role)) {
        expect(res.status).toBe(403);
        return;
      }
      // Allowed roles are never refused for their role (other 4xx are the body's or the data's); a member
      // token may still be refused another member's e-mail.
      const othersEmail = c.role === 'member' && c.r.url.includes(':email') && c.acct === 'two';
      if (res.status === 403 && !othersEmail) expect(res.body.error?.code).not.toBe('FORBIDDEN');
      // A token of account `two` addressing account `one`'s ids never succeeds with one's data.
      if (c.acct === 'two' && /:(email|id)/.test(c.r.url)) {
        expect([400, 403, 404, 409]).toContain(res.status);
      }
      if (c.acct === 'two' && res.status === 200) expect(JSON.stringify(res.body)).not.toMatch(/@one\.test/);
    },
  );
});

describe('API: hostile input never produces a 5xx', () => {
  it('random bodies on every POST/PATCH route are refused with coded 4xx errors', async () => {
    const writes = ROUTES.filter((r) => r.method !== 'GET');
    const anything = fc.oneof(fc.json(), fc.string(), fc.constant('{"member": "a@b.c", "credits": "1e400"}'));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...writes), anything, async (route, raw) => {
        const res = await call(route.method, await pathFor(route.url), tokens.one!.admin, raw);
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(res.body.error?.code).toMatch(/^[A-Z_]+$/);
      }),
      { numRuns: 60 },
    );
  });

  it("requests generated from every route's own schema never produce a 5xx, for every role", async () => {
    const schemaOf = (r: (typeof ROUTES)[number]) =>
      r.schema as Record<string, Record<string, unknown> | undefined>;
    const request = fc.constantFrom(...ROUTES).chain((route) =>
      fc.record({
        route: fc.constant(route),
        params: arbitraryFor(schemaOf(route).params),
        query: arbitraryFor(schemaOf(route).querystring),
        body: arbitraryFor(schemaOf(route).body),
        role: fc.constantFrom<Role>('admin', 'service', 'member'),
        acct: fc.constantFrom('one', 'two'),
      }),
    );
    await fc.assert(
      fc.asyncProperty(request, async ({ route, params, query, body, role, acct }) => {
        let path = route.url;
        for (const [k, v] of Object.entries((params ?? {}) as Record<string, unknown>)) {
          path = path.replace(`:${k}`, encodeURIComponent(String(v)));
        }
        path = path.replace(/:(\w+)/g, 'x');
        const qs =
          query && typeof query === 'object' && !Array.isArray(query)
            ? new URLSearchParams(query as Record<string, string>).toString()
            : '';
        const res = await call(
          route.method,
          qs ? `${path}?${qs}` : path,
          tokens[acct]![role],
          route.method === 'GET' ? undefined : (body ?? {}),
        );
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(res.body.error?.code).toMatch(/^[A-Z_]+$/);
      }),
      { numRuns: 300 },
    );
  });

  it('unknown properties are rejected (no mass assignment)', async () => {
    const res = await call('PATCH', '/v1/settings', tokens.two!.admin, { creditLimit: '10', stateSerial: 0 });
    expect(res.status).toBe(400);
    expect(res.body.error!.code).toBe('VALIDATION_FAILED');
  });
});

describe('API: health, readiness and OpenAPI', () => {
  it('serves /healthz, /readyz and an OpenAPI 3 document listing every route, without a token', async () => {
    expect((await call('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await call('GET', '/readyz')).body).toMatchObject({ status: 'ready' });
    const doc = await call('GET', '/docs/json');
    expect(doc.status).toBe(200);
    expect(String(doc.body.openapi)).toMatch(/^3\./);
    const paths = Object.keys(doc.body.paths as object);
    for (const r of ROUTES) expect(paths).toContain(r.url.replace(/:(\w+)/g, '{$1}'));
    const ui = await fetch(base + '/docs/static/index.html');
    expect(ui.status).toBe(200);
  });

  it('refuses oversized bodies with a coded 413', async () => {
    const res = await call('POST', '/v1/usage', tokens.one!.service, {
      member: 'a@b.co',
      credits: '1',
      metadata: { x: 'y'.repeat(100_000) },
    });
    expect(res.status).toBe(413);
    expect(res.body.error!.code).toBe('PAYLOAD_TOO_LARGE');
  });
});
