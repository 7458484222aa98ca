// GET /metrics over HTTP: a real `credits serve` process counts usage accepted and refused, replays, batches,
// resets and requests by route pattern; rollovers are counted once per cycle actually opened (in-process
// servers with a clock); /metrics answers loopback clients only.
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { pgWithConfig, storeKinds } from '../support/databases.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { createToken } from '../../src/state/tokens.js';
import { buildServer } from '../../src/api/server.js';
import { createPgStore } from '../../src/state/pg-store.js';
import { isLoopback, metricsAllowed } from '../../src/api/metrics.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Parses Prometheus text exposition (version 0.0.4) strictly: every line is HELP, TYPE or a sample of a
 * family declared before it, with well-formed labels and a number; anything else throws.
 */
function parseExposition(text: string): Sample[] {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const LABEL = `([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`;
  const sampleLine = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?,?\\})? (\\S+)$`);
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(meta[3]);
        types.set(meta[2]!, meta[3]!);
      }
      continue;
    }
    const m = sampleLine.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const name = m[1]!;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(family)) throw new Error(`sample before its TYPE: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(new RegExp(LABEL, 'g'))) labels[k!] = v!;
    const value = Number(m[m.length - 1]);
    if (Number.isNaN(value) && m[m.length - 1] !== 'NaN') throw new Error(`not a number: ${line}`);
    samples.push({ name, labels, value });
  }
  return samples;
}

/** The value of the sample with exactly these labels, 0 when absent. */
const valueOf = (samples: Sample[], name: string, labels: Record<string, string> = {}): number =>
  samples.find(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value ?? 0;

const scrape = async (base: string): Promise<Sample[]> => {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await res.text());
};

const config = (id: string) => `version: 1
account:
  id: ${id}
  creditFactor: 1
  creditLimit: 1000
groups:
  team:
    allocation: 100
    members:
      ann@metered.test: 10
`;

describe('GET /metrics of a credits serve process', () => {
  let server: ServeProcess;
  let token: string;
  beforeAll(async () => {
    const { url, store } = await pgWithConfig(config('metered'));
    token = (await createToken(store, { accountId: 'metered', role: 'admin' })).token;
    server = await startServeProcess(url);
  });
  afterAll(() => {
    server?.child.kill('SIGKILL');
  });

  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(server.base + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const use = (credits: string, key?: string) =>
    call('POST', '/v1/usage', { member: 'ann@metered.test', credits }, key ? { 'idempotency-key': key } : {});

  it('counts usage accepted and refused, replays, batches, resets and requests by route pattern', async () => {
    const before = await scrape(server.base);
    const delta = (after: Sample[], name: string, labels: Record<string, string> = {}) =>
      valueOf(after, name, labels) - valueOf(before, name, labels);

    for (let i = 0; i < 3; i++) expect((await use('3')).status).toBe(201); // 9 of 10
    const refused = await use('5');
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as { error: { blockedBy: string } }).error.blockedBy).toBe('member');
    expect((await use('0.5', 'once')).status).toBe(201);
    expect((await use('0.5', 'once')).status).toBe(201); // replayed by the usage batch
    const hold = { member: 'ann@metered.test', credits: '0.1' };
    expect((await call('POST', '/v1/reservations', hold, { 'idempotency-key': 'h1' })).status).toBe(201);
    expect((await call('POST', '/v1/reservations', hold, { 'idempotency-key': 'h1' })).status).toBe(201);
    expect((await call('GET', '/v1/members/ann@metered.test')).status).toBe(200);
    expect((await call('GET', '/v1/secret-path/4242')).status).toBe(404);
    expect((await call('POST', '/v1/cycle/reset')).status).toBe(200);

    const after = await scrape(server.base);
    expect(delta(after, 'credits_usage_events_accepted_total')).toBe(4);
    expect(delta(after, 'credits_usage_events_refused_total', { blocked_by: 'member' })).toBe(1);
    expect(delta(after, 'credits_usage_events_refused_total', { blocked_by: 'group' })).toBe(0);
    expect(delta(after, 'credits_usage_events_refused_total', { blocked_by: 'account' })).toBe(0);
    expect(delta(after, 'credits_idempotency_replays_total')).toBe(2);
    expect(delta(after, 'credits_cycles_opened_total', { reason: 'reset' })).toBe(1);
    expect(delta(after, 'credits_cycles_opened_total', { reason: 'rollover' })).toBe(0);
    // One request at a time: batches of one event each, six events (four written, one refused, one
    // replayed), the first of them sent twice: the cycle's counters are made between its two batches.
    expect(delta(after, 'credits_usage_batch_size_count')).toBe(7);
    expect(delta(after, 'credits_usage_batch_size_sum')).toBe(7);
    expect(delta(after, 'credits_usage_batch_size_bucket', { le: '1' })).toBe(7);

    const requests = (method: string, route: string, status: number) =>
      delta(after, 'credits_http_request_duration_seconds_count', {
        method,
        route,
        status_code: String(status),
      });
    expect(requests('POST', '/v1/usage', 201)).toBe(5);
    expect(requests('POST', '/v1/usage', 402)).toBe(1);
    expect(requests('POST', '/v1/reservations', 201)).toBe(2);
    expect(requests('GET', '/v1/members/:email', 200)).toBe(1);
    expect(requests('GET', 'unmatched', 404)).toBe(1);
    expect(requests('GET', '/metrics', 200)).toBe(1); // the first scrape
    // Routes are patterns, never raw URLs.
    const routes = new Set(after.flatMap((s) => (s.labels.route ? [s.labels.route] : [])));
    expect([...routes].filter((r) => /ann@|4242|secret/.test(r))).toEqual([]);

    // The pool of the server's PostgreSQL store.
    const inUse = valueOf(after, 'credits_db_pool_connections', { state: 'in_use' });
    const idle = valueOf(after, 'credits_db_pool_connections', { state: 'idle' });
    expect(inUse).toBeGreaterThanOrEqual(0);
    expect(inUse + idle).toBeGreaterThanOrEqual(1);
    expect(after.some((s) => s.name === 'credits_db_pool_waiting')).toBe(true);
  });

  it('counts every event of concurrent usage, in batches of one to 32', async () => {
    expect((await use('0.001')).status).toBe(201); // the new cycle's counters exist from here on
    const before = await scrape(server.base);
    const statuses = await Promise.all(Array.from({ length: 40 }, () => use('0.001').then((r) => r.status)));
    expect(statuses.every((s) => s === 201 || s === 402)).toBe(true);
    const after = await scrape(server.base);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('credits_usage_batch_size_sum')).toBe(40);
    expect(delta('credits_usage_batch_size_count')).toBeGreaterThanOrEqual(2);
    expect(delta('credits_usage_batch_size_count')).toBeLessThanOrEqual(40);
    expect(delta('credits_usage_events_accepted_total')).toBe(statuses.filter((s) => s === 201).length);
  });

  it('needs no token from 127.0.0.1, and refuses requests relayed by a proxy', async () => {
    expect((await fetch(`${server.base}/metrics`)).status).toBe(200);
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip']) {
      const res = await fetch(`${server.base}/metrics`, {
        headers: { [header]: '203.0.113.9', authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(403);
      const { error } = (await res.json()) as { error: Record<string, string> };
      expect(error.code).toBe('METRICS_FORBIDDEN');
      expect(error.requestId).toBe(res.headers.get('x-request-id'));
    }
  });
});

describe('metrics access', () => {
  it('is granted to loopback socket addresses without forwarding headers only', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a)).toBe(true);
    for (const a of ['192.0.2.2', '10.0.0.1', '::', '::ffff:10.0.0.1', 'fd00::1', '1127.0.0.1', undefined]) {
      expect(isLoopback(a)).toBe(false);
    }
    expect(metricsAllowed('127.0.0.1', {})).toBe(true);
    expect(metricsAllowed('127.0.0.1', { 'x-forwarded-for': '127.0.0.1' })).toBe(false);
    expect(metricsAllowed('10.0.0.1', { authorization: 'Bearer x' })).toBe(false);
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && !i.internal && i.family === 'IPv4')?.address;

  it.skipIf(!external)('refuses a client that connects from a non-loopback address', async () => {
    const { store } = await pgWithConfig(config('remote'));
    const app = await buildServer({ store });
    try {
      await app.listen({ port: 0, host: '0.0.0.0' });
      const { port } = app.server.address() as { port: number };
      const res = await fetch(`http://${external}:${port}/metrics`);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('METRICS_FORBIDDEN');
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('database pool in metrics', () => {
  it('shows connections in use and callers waiting for one', async () => {
    const { url } = await pgWithConfig(config('pooled'));
    const store = createPgStore(url, { max: 1 });
    const app = await buildServer({ store });
    try {
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const holding = store.transaction(() => held);
      await new Promise((r) => setTimeout(r, 100));
      const waiting = store.query('SELECT 1');
      const during = await scrape(base);
      expect(valueOf(during, 'credits_db_pool_connections', { state: 'in_use' })).toBe(1);
      expect(valueOf(during, 'credits_db_pool_waiting')).toBe(1);
      release();
      await Promise.all([holding, waiting]);
      const afterwards = await scrape(base);
      expect(valueOf(afterwards, 'credits_db_pool_connections', { state: 'in_use' })).toBe(0);
      expect(valueOf(afterwards, 'credits_db_pool_connections', { state: 'idle' })).toBe(1);
      expect(valueOf(afterwards, 'credits_db_pool_waiting')).toBe(0);
    } finally {
      await app.close();
      await store.close();
    }
  });
});

describe('cycle rollovers in metrics', () => {
  const servers: FastifyInstance[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it.each(storeKinds)(
    'counts a cycle once when concurrent requests roll over, and not when the rollover was rolled back (%s)',
    async (_kind, fresh) => {
      const store = await fresh();
      await applyPlan(store, await makePlan(store, { bytes: config('rolling'), file: 'credits.yaml' }), {
        actor: 'test',
      });
      const admin = (await createToken(store, { accountId: 'rolling', role: 'admin' })).token;
      // A second server in the same process, on another database: registries are per server.
      const other = await pgWithConfig(config('bystander'));
      let clock = new Date();
      const app = await buildServer({ store, now: () => clock });
      const bystander = await buildServer({ store: other.store });
      servers.push(app, bystander);
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      const otherBase = await bystander.listen({ port: 0, host: '127.0.0.1' });
      const post = (path: string, body: unknown) =>
        fetch(base + path, {
          method: 'POST',
          headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const rollovers = async (url: string) =>
        valueOf(await scrape(url), 'credits_cycles_opened_total', { reason: 'rollover' });
      const rolloverRows = async () =>
        Number(
          (
            await store.query<{ n: string }>(
              "SELECT count(*) AS n FROM cycles WHERE account_id = 'rolling' AND reason = 'rollover'",
            )
          ).rows[0]!.n,
        );

      clock = new Date(Date.now() + 62 * 24 * 3600_000); // past the end of this month's cycle
      // A reservation the budget refuses opens the next cycle inside its transaction, which is rolled back.
      const refused = await post('/v1/reservations', { member: 'ann@metered.test', credits: '11' });
      expect(refused.status).toBe(402);
      expect(await rolloverRows()).toBe(0);
      expect(await rollovers(base)).toBe(0);

      // Ten usage events find the cycle ended at once; one of them opens the next.
      const statuses = await Promise.all(
        Array.from({ length: 10 }, () => post('/v1/usage', { member: 'ann@metered.test', credits: '0.5' })),
      );
      expect(statuses.map((r) => r.status)).toEqual(Array(10).fill(201));
      expect(await rolloverRows()).toBe(1);
      expect(await rollovers(base)).toBe(1);
      const after = await scrape(base);
      expect(valueOf(after, 'credits_usage_events_accepted_total')).toBe(10);
      expect(valueOf(after, 'credits_usage_events_refused_total', { blocked_by: 'member' })).toBe(0);

      const elsewhere = await scrape(otherBase);
      expect(valueOf(elsewhere, 'credits_usage_events_accepted_total')).toBe(0);
      expect(valueOf(elsewhere, 'credits_cycles_opened_total', { reason: 'rollover' })).toBe(0);
    },
  );
});
