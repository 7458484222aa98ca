// Alerts end to end: a real `credits serve` on real PostgreSQL delivers to a local receiver (node:http on
// 127.0.0.1) that fails its first delivery. Exactly one alert per scope, threshold and cycle arrives (after
// retries, with the same event id), every signature verifies, a new cycle alerts again, concurrent writers
// crossing sliced budgets still raise each alert once, and the secret's value is never logged.
import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { pgWithConfig } from '../support/databases.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { createToken } from '../../src/state/tokens.js';

const SECRET = 'whsec_test_5d1f0c9e7a';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

/** A receiver that answers 500 to its first request and 200 after. */
async function receiver(): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const answered = got.length === 0 ? 500 : 200;
      got.push({ headers: req.headers, body, answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hook`, got, server };
}

/** The receiver's check, as docs/alerts.md shows it. */
function verify(secret: string, header: string, body: string): boolean {
  const { t, v1 } = Object.fromEntries(header.split(',').map((kv) => kv.split('='))) as Record<
    string,
    string
  >;
  const want = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return !!v1 && v1.length === want.length && timingSafeEqual(Buffer.from(v1), Buffer.from(want));
}

const config = (hook: string) => `version: 1
account:
  id: acme
  creditLimit: 600
  creditFactor: 1
groups:
  eng:
    allocation: 500
    members:
      a@acme.com: 100
      b@acme.com: {}
alerts:
  thresholds: [80, 50, 100]
  webhooks:
    - url: ${hook}
      secretEnv: TEST_HOOK_SECRET
`;

const FAST = {
  CREDITS_ALERT_POLL_MS: '50',
  CREDITS_ALERT_BACKOFF_MS: '200',
  CREDITS_ALERT_SWEEP_MS: '300',
  CREDITS_LOG: 'info',
};

const servers: ServeProcess[] = [];
const receivers: Server[] = [];
afterAll(() => {
  servers.forEach((s) => s.child.kill('SIGTERM'));
  receivers.forEach((r) => r.close());
});

const until = async (what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('budget threshold alerts over a real server', () => {
  it('delivers each alert once per scope, threshold and cycle, signed, after a failed first delivery', async () => {
    const hook = await receiver();
    receivers.push(hook.server);
    const { url, store } = await pgWithConfig(config(hook.url));
    const { token: service } = await createToken(store, { accountId: 'acme', role: 'service' });
    const { token: admin } = await createToken(store, { accountId: 'acme', role: 'admin' });
    const serve = await startServeProcess(url, { ...FAST, TEST_HOOK_SECRET: SECRET });
    servers.push(serve);
    let log = '';
    serve.child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
    serve.child.stderr!.on('data', (c: Buffer) => (log += c.toString()));

    let key = 0;
    const use = async (member: string, credits: string): Promise<number> => {
      const res = await fetch(`${serve.base}/v1/usage`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${service}`,
          'content-type': 'application/json',
          'idempotency-key': `k${key++}`,
        },
        body: JSON.stringify({ member, credits }),
      });
      await res.arrayBuffer();
      return res.status;
    };
    // a: own allocation 100; b: the pool (400). Group eng 500, account 600.
    expect(await use('a@acme.com', '60')).toBe(201); // member a 60 % → 50
    expect(await use('a@acme.com', '25')).toBe(201); // member a 85 % → 80
    expect(await use('b@acme.com', '300')).toBe(201); // group 385/500 = 77 % → 50; account 64 % → 50
    expect(await use('b@acme.com', '15')).toBe(201); // group 80 % → 80
    expect(await use('a@acme.com', '15')).toBe(201); // member a 100 % → 100; group 83 %; account 69 %
    expect(await use('a@acme.com', '1')).toBe(402); // refused: no usage, no alert

    const events = () =>
      new Map(hook.got.filter((g) => g.answered === 200).map((g) => [JSON.parse(g.body).id, g]));
    await until('six delivered alerts', () => events().size === 6);
    await new Promise((r) => setTimeout(r, 800)); // two sweeps and retries more: nothing else may arrive
    const bodies = [...events().values()].map((g) => JSON.parse(g.body));
    const key4 = (b: { scope: string; member: string | null; group: string | null; threshold: number }) =>
      `${b.scope}:${b.member ?? b.group ?? ''}:${b.threshold}`;
    expect(bodies.map(key4).sort()).toEqual(
      [
        'account::50',
        'group:eng:50',
        'group:eng:80',
        'member:a@acme.com:100',
        'member:a@acme.com:50',
        'member:a@acme.com:80',
      ].sort(),
    );
    // Seven requests: the failed first one was retried with the same id and the same body.
    expect(hook.got).toHaveLength(7);
    const first = hook.got[0]!;
    const retried = hook.got.filter((g) => JSON.parse(g.body).id === JSON.parse(first.body).id);
    expect(retried.map((g) => g.answered)).toEqual([500, 200]);
    expect(retried[1]!.body).toBe(first.body);
    for (const g of hook.got) {
      expect(verify(SECRET, String(g.headers['credits-signature']), g.body)).toBe(true);
      expect(verify('another secret', String(g.headers['credits-signature']), g.body)).toBe(false);
      expect(g.headers['credits-event-id']).toBe(JSON.parse(g.body).id);
    }
    const member80 = bodies.find((b) => key4(b) === 'member:a@acme.com:80');
    expect(member80).toMatchObject({
      type: 'budget.threshold',
      account: 'acme',
      scope: 'member',
      member: 'a@acme.com',
      group: 'eng',
      threshold: 80,
      used: '85',
      budget: '100',
    });
    const group80 = bodies.find((b) => key4(b) === 'group:eng:80');
    // A sliced budget's alert may be raised by a later change or the sweep: used is what it was then.
    expect(group80).toMatchObject({ scope: 'group', member: null, group: 'eng', budget: '500' });
    expect(['400', '415']).toContain(group80.used);
    expect(Date.parse(member80.cycle.end)).toBeGreaterThan(Date.parse(member80.cycle.start));

    // GET /v1/alerts lists them with their deliveries; the first one shows its failed attempt.
    const listRes = await fetch(`${serve.base}/v1/alerts`, { headers: { authorization: `Bearer ${admin}` } });
    const listed = (await listRes.json()) as { alerts: { id: string; deliveries: unknown[] }[] };
    expect(listed.alerts).toHaveLength(6);
    const retriedAlert = listed.alerts.find((a) => a.id === JSON.parse(first.body).id)!;
    expect(retriedAlert.deliveries).toMatchObject([{ status: 'delivered', attempts: 2, lastStatus: 200 }]);

    // A new cycle alerts again, with a new id and the new cycle's start.
    const reset = await fetch(`${serve.base}/v1/cycle/reset`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(reset.status).toBe(200);
    const cycle = (await reset.json()) as { start: string };
    expect(await use('a@acme.com', '55')).toBe(201);
    await until('the new cycle alert', () => events().size === 7);
    const again = [...events().values()]
      .map((g) => JSON.parse(g.body))
      .filter((b) => b.cycle.start === cycle.start);
    expect(again.map(key4)).toEqual(['member:a@acme.com:50']);

    // Concurrent writers on the pool cross the sliced group and account budgets: each alert still once.
    const burst = await Promise.all(Array.from({ length: 40 }, () => use('b@acme.com', '10')));
    expect(burst.every((status) => status === 201)).toBe(true);
    await until('the concurrent alerts', () => events().size === 10);
    await new Promise((r) => setTimeout(r, 800));
    const concurrent = [...events().values()]
      .map((g) => JSON.parse(g.body))
      .filter((b) => b.cycle.start === cycle.start)
      .map(key4)
      .sort();
    expect(concurrent).toEqual(['account::50', 'group:eng:50', 'group:eng:80', 'member:a@acme.com:50']);
    expect(hook.got).toHaveLength(11);

    // The secret's value is in no log line.
    expect(log).toContain('alert delivered');
    expect(log).not.toContain(SECRET);
  }, 60_000);

  it('names an empty or missing secret variable (never a value) and records the failed attempts', async () => {
    const hook = await receiver();
    receivers.push(hook.server);
    const { url, store } = await pgWithConfig(config(hook.url));
    const { token: service } = await createToken(store, { accountId: 'acme', role: 'service' });
    // Set but empty (as `TEST_HOOK_SECRET=` in an env file leaves it): the line says so, not just "not set".
    const serve = await startServeProcess(url, {
      ...FAST,
      CREDITS_ALERT_MAX_ATTEMPTS: '2',
      TEST_HOOK_SECRET: '',
    });
    servers.push(serve);
    let log = '';
    serve.child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
    serve.child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    await until('the start-up line', () => log.includes('TEST_HOOK_SECRET'));
    expect(log).toContain(
      `alert webhook ${hook.url}: environment variable TEST_HOOK_SECRET is empty or not set; its deliveries fail until it holds the secret`,
    );
    const res = await fetch(`${serve.base}/v1/usage`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${service}`,
        'content-type': 'application/json',
        'idempotency-key': 'x',
      },
      body: JSON.stringify({ member: 'a@acme.com', credits: '50' }),
    });
    expect(res.status).toBe(201);
    const status = async () =>
      (
        await store.query<{ status: string; attempts: number; last_error: string }>(
          'SELECT * FROM alert_deliveries',
        )
      ).rows;
    await until('the delivery to be given up', async () => (await status())[0]?.status === 'failed');
    expect(await status()).toMatchObject([
      {
        status: 'failed',
        attempts: 2,
        last_error: 'environment variable TEST_HOOK_SECRET is empty or not set in credits serve',
      },
    ]);
    expect(hook.got).toEqual([]);
  }, 60_000);

  it('stops at once with a request in flight to a receiver that never answers; the cut attempt does not count', async () => {
    // Takes the request and never answers.
    const silent = createServer(() => {});
    receivers.push(silent);
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const hook = `http://127.0.0.1:${(silent.address() as { port: number }).port}/hook`;
    const { url, store } = await pgWithConfig(config(hook));
    const { token: service } = await createToken(store, { accountId: 'acme', role: 'service' });
    // One attempt allowed: a shutdown during it must not give the delivery up (it did: failed, attempts 1).
    const serve = await startServeProcess(url, {
      ...FAST,
      TEST_HOOK_SECRET: SECRET,
      CREDITS_ALERT_MAX_ATTEMPTS: '1',
    });
    const res = await fetch(`${serve.base}/v1/usage`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${service}`,
        'content-type': 'application/json',
        'idempotency-key': 'x',
      },
      body: JSON.stringify({ member: 'a@acme.com', credits: '50' }),
    });
    expect(res.status).toBe(201);
    const attempts = async () =>
      (
        await store.query<{ attempts: number; status: string; last_error: string | null }>(
          'SELECT attempts, status, last_error FROM alert_deliveries',
        )
      ).rows;
    await until('the request to be in flight', async () => (await attempts())[0]?.attempts === 1);
    await new Promise((r) => setTimeout(r, 200));
    const stopping = Date.now();
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(5000); // the request timeout is 10 s
    expect(await attempts()).toEqual([
      {
        attempts: 0,
        status: 'pending',
        last_error: 'request failed: credits serve stopped during the request',
      },
    ]);
    // Due again at once, for the next server to start.
    const due = await store.query<{ due: boolean }>(
      'SELECT next_attempt_at <= now() AS due FROM alert_deliveries',
    );
    expect(due.rows).toEqual([{ due: true }]);
  }, 60_000);

  it('a receiver that never answers does not hold up the deliveries to another webhook', async () => {
    const silent = createServer(() => {});
    receivers.push(silent);
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const fast = await receiver();
    receivers.push(fast.server);
    const hang = `http://127.0.0.1:${(silent.address() as { port: number }).port}/hook`;
    // Ten thresholds: a's 100 % use raises ten member alerts (and group and account ones), each to both webhooks.
    const text = config(hang)
      .replace('thresholds: [80, 50, 100]', 'thresholds: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]')
      .concat(`    - url: ${fast.url}\n      secretEnv: TEST_HOOK_SECRET\n`);
    const { url, store } = await pgWithConfig(text);
    const { token: service } = await createToken(store, { accountId: 'acme', role: 'service' });
    const serve = await startServeProcess(url, {
      ...FAST,
      TEST_HOOK_SECRET: SECRET,
      CREDITS_ALERT_TIMEOUT_MS: '6000',
      CREDITS_ALERT_BACKOFF_MS: '100',
    });
    servers.push(serve);
    const started = Date.now();
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${serve.base}/v1/usage`, {
        method: 'POST',
        headers: { authorization: `Bearer ${service}`, 'content-type': 'application/json' },
        body: JSON.stringify({ member: 'a@acme.com', credits: '10' }),
      });
      expect(res.status).toBe(201);
    }
    // The fast receiver answers 500 once, then 200: its ten alerts arrive well before one request to the
    // silent receiver times out (it waited for a whole round of them: 6 s a round).
    const delivered = () =>
      new Set(
        fast.got
          .filter((g) => g.answered === 200 && (JSON.parse(g.body) as { scope: string }).scope === 'member')
          .map((g) => g.body),
      ).size;
    await until('the fast receiver to get its ten alerts', () => delivered() === 10, 20_000);
    expect(Date.now() - started).toBeLessThan(5000);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  }, 60_000);

  it('two servers on one database never send one delivery at the same time, and deliver each alert once', async () => {
    // A slow receiver (300 ms an answer) that counts requests per event id and notes any overlap.
    const inFlight = new Map<string, number>();
    const seen = new Map<string, number>();
    let overlaps = 0;
    const slow = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        const id = (JSON.parse(body) as { id: string }).id;
        if (inFlight.get(id)) overlaps++;
        inFlight.set(id, (inFlight.get(id) ?? 0) + 1);
        seen.set(id, (seen.get(id) ?? 0) + 1);
        setTimeout(() => {
          inFlight.set(id, inFlight.get(id)! - 1);
          res.writeHead(200).end();
        }, 300);
      });
    });
    receivers.push(slow);
    await new Promise<void>((done) => slow.listen(0, '127.0.0.1', done));
    const hook = `http://127.0.0.1:${(slow.address() as { port: number }).port}/hook`;
    const { url, store } = await pgWithConfig(config(hook));
    const { token: service } = await createToken(store, { accountId: 'acme', role: 'service' });
    const [one, two] = await Promise.all([
      startServeProcess(url, { ...FAST, TEST_HOOK_SECRET: SECRET }),
      startServeProcess(url, { ...FAST, TEST_HOOK_SECRET: SECRET }),
    ]);
    servers.push(one!, two!);
    let key = 0;
    const burst = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const res = await fetch(`${[one!, two!][i % 2]!.base}/v1/usage`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${service}`,
            'content-type': 'application/json',
            'idempotency-key': `k${key++}`,
          },
          body: JSON.stringify({ member: i % 3 ? 'b@acme.com' : 'a@acme.com', credits: '10' }),
        });
        return res.status;
      }),
    );
    expect(burst.every((s) => s === 201)).toBe(true);
    const events = async () =>
      Number((await store.query<{ n: string }>('SELECT count(*) AS n FROM alert_events')).rows[0]!.n);
    // a: 10 × 10 = 100 % (50, 80, 100); group 300/500 (50); account 300/600 (50): 5 alerts.
    await until('every delivery delivered', async () => {
      const { rows } = await store.query<{ n: string }>(
        "SELECT count(*) AS n FROM alert_deliveries WHERE status <> 'delivered'",
      );
      return Number(rows[0]!.n) === 0 && (await events()) > 0 && seen.size === (await events());
    });
    expect(await events()).toBe(5);
    expect(overlaps).toBe(0);
    expect([...seen.values()]).toEqual([1, 1, 1, 1, 1]);
  }, 60_000);
});
