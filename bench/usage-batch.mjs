#!/usr/bin/env node
// Benchmark: usage events per second through POST /v1/usage/batch (`credits serve` on PostgreSQL, 32
// keep-alive connections over loopback, each request a batch of 1,000 events with distinct keys, one
// account with 1,000 members), against `pgbench -N -c 32 -j 2` on the same server in the same run. Events
// are counted in the ledger (entries written during the load), not from the answers. Each run measures the
// floor, then the route; the last line gives the medians. Both are warmed up first, unmeasured (--warmup
// seconds each): the cycle's first events create its counters, and pgbench's first run meets fresh tables.
// Usage: npm run build && node bench/usage-batch.mjs [--seconds 10] [--runs 3] [--size 1000] [--connections 32]
//        [--warmup 5]
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { httpLoad } from './http-load.mjs';
import { median, startServe } from './lib.mjs';
import { startServer } from './pg-server.mjs';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    size: { type: 'string', default: '1000' },
    connections: { type: 'string', default: '32' },
    warmup: { type: 'string', default: '5' },
  },
});
const seconds = Number(values.seconds);
const size = Number(values.size);
const connections = Number(values.connections);
const dist = new URL('../dist/', import.meta.url);
const { createPgStore } = await import(new URL('state/pg-store.js', dist));
const { migrate } = await import(new URL('state/migrate.js', dist));
const { makePlan } = await import(new URL('planner/plan-against-store.js', dist));
const { applyPlan } = await import(new URL('apply/apply-plan.js', dist));
const { createToken } = await import(new URL('state/tokens.js', dist));
const { verifyLedger } = await import(new URL('ledger/verify.js', dist));

const pg = await startServer();
let api;
try {
  pg.psql('CREATE DATABASE bench');
  spawnSync(pg.bin('pgbench'), ['-i', '-s', '10', '-q', ...pg.connArgs('bench')], { stdio: 'ignore' });
  pg.psql('CREATE DATABASE credits');
  const url = pg.url('credits');
  const store = createPgStore(url);
  await migrate(store);
  // Budgets far above what the runs spend: the figure is accepted events.
  const lines = ['version: 1', 'account:', '  id: bench', '  creditLimit: 100001000', '  creditFactor: 1'];
  lines.push('groups:');
  for (let g = 0; g < 10; g++) {
    lines.push(`  g${g}:`, '    allocation: 10000000', '    members:');
    for (let m = 0; m < 100; m++) lines.push(`      u${g * 100 + m}@bench.test: ${m % 2 ? 100000 : '{}'}`);
  }
  lines.push('  default:', '    allocation: 1000');
  await applyPlan(store, await makePlan(store, { bytes: lines.join('\n') + '\n', file: 'b.yaml' }), {
    actor: 'bench',
  });
  await store.query('ANALYZE'); // as `pgbench -i` does for its tables
  const service = (await createToken(store, { accountId: 'bench', role: 'service' })).token;

  const served = await startServe(url);
  api = served.child;
  const port = served.port;
  const usageEntries = async () =>
    Number(
      (
        await store.query(
          "SELECT count(*) AS n FROM ledger_entries WHERE account_id = 'bench' AND kind = 'usage'",
        )
      ).rows[0].n,
    );

  const batchRequest = (prefix) => (i) => ({
    method: 'POST',
    path: '/v1/usage/batch',
    headers: { authorization: `Bearer ${service}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      events: Array.from({ length: size }, (_, e) => ({
        idempotencyKey: `${prefix}-${i}-${e}`,
        member: `u${Math.floor(Math.random() * 1000)}@bench.test`,
        credits: '1.5',
      })),
    }),
  });
  const pgbench = (s) =>
    spawnSync(pg.bin('pgbench'), ['-N', '-c', '32', '-j', '2', '-T', String(s), ...pg.connArgs('bench')], {
      encoding: 'utf8',
    });
  const warmup = Number(values.warmup);
  if (warmup > 0) {
    pgbench(warmup);
    await httpLoad({ port, connections, seconds: warmup, request: batchRequest('w') });
  }

  console.log('| run | batch route events/s | requests/s, p99 | floor: pgbench -N -c 32 | ratio |');
  console.log('| --- | --- | --- | --- | --- |');
  const rates = [];
  const floors = [];
  for (let run = 0; run < Number(values.runs); run++) {
    const floor = pgbench(seconds);
    const floorTps = Number(/tps = ([\d.]+)/.exec(floor.stdout)?.[1]);
    const before = await usageEntries();
    const started = performance.now();
    const load = await httpLoad({
      port,
      connections,
      seconds,
      request: batchRequest(`r${run}`),
    });
    const elapsed = (performance.now() - started) / 1000;
    const events = (await usageEntries()) - before;
    const rate = events / elapsed;
    rates.push(rate);
    floors.push(floorTps);
    console.log(
      `| ${run + 1} | ${rate.toFixed(0)} events/s (${events} events; non-200 answers ${load.non2xx}) | ${load.perSecond.toFixed(1)} req/s of ${size} events, p99 ${load.p99.toFixed(0)} ms | ${floorTps.toFixed(0)} tps | ${(rate / floorTps).toFixed(2)}× |`,
    );
  }
  const over = await store.query(
    `SELECT count(*) AS n FROM (SELECT sum(capacity) c, sum(used) u FROM budget_counters WHERE account_id = 'bench'
      GROUP BY cycle_no, scope) s WHERE u > c`,
  );
  const check = await verifyLedger(store, 'bench');
  await store.close();
  const ratios = rates.map((r, i) => r / floors[i]);
  console.log(
    `| median | ${median(rates).toFixed(0)} events/s | | ${median(floors).toFixed(0)} tps | ${median(ratios).toFixed(2)}× (target ≥ 2×; overspent scopes ${over.rows[0].n}, ledger mismatches ${check.mismatches.length}) |`,
  );
} finally {
  api?.kill('SIGTERM');
  await pg.stop();
}
