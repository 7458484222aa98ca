#!/usr/bin/env node
// Benchmark: the API over loopback HTTP (32 keep-alive connections) on PostgreSQL, against
// `pgbench -N -c 32` on the same server in the same run:
//  - POST /v1/usage for one account with 1,000 members (each request a distinct Idempotency-Key), with the
//    overspend check afterwards; p99 latency;
//  - GET /v1/overview.
// The load tool is bench/http-load.mjs (lean, like pgbench's own client); `--tool autocannon` uses autocannon,
// whose own CPU use on this 2-core machine lowers the figure.
// Usage: npm run build && node bench/api.mjs [--seconds 10] [--tool lean|autocannon]
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { httpLoad } from './http-load.mjs';
import { startServe } from './lib.mjs';
import { startServer } from './pg-server.mjs';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, tool: { type: 'string', default: 'lean' } },
});
const seconds = Number(values.seconds);
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
  const pgbench = spawnSync(
    pg.bin('pgbench'),
    ['-N', '-c', '32', '-j', '2', '-T', String(seconds), ...pg.connArgs('bench')],
    { encoding: 'utf8' },
  );
  const floorTps = Number(/tps = ([\d.]+)/.exec(pgbench.stdout)?.[1]);

  pg.psql('CREATE DATABASE credits');
  const url = pg.url('credits');
  const store = createPgStore(url);
  await migrate(store);
  const lines = [
    'version: 1',
    'account:',
    '  id: bench',
    '  creditLimit: 10001000',
    '  creditFactor: 1',
    'groups:',
  ];
  for (let g = 0; g < 10; g++) {
    lines.push(`  g${g}:`, '    allocation: 1000000', '    members:');
    for (let m = 0; m < 100; m++) lines.push(`      u${g * 100 + m}@bench.test: ${m % 2 ? 10000 : '{}'}`);
  }
  lines.push('  default:', '    allocation: 1000');
  await applyPlan(store, await makePlan(store, { bytes: lines.join('\n') + '\n', file: 'b.yaml' }), {
    actor: 'bench',
  });
  // As `pgbench -i` analyzes its tables after loading them: plans made on an empty table's statistics
  // would otherwise scan the account's members for every lookup during the measured run.
  await store.query('ANALYZE');
  const service = (await createToken(store, { accountId: 'bench', role: 'service' })).token;
  const admin = (await createToken(store, { accountId: 'bench', role: 'admin' })).token;

  const served = await startServe(url);
  api = served.child;
  const port = served.port;
  const usageRequest = (i) => ({
    method: 'POST',
    path: '/v1/usage',
    headers: {
      authorization: `Bearer ${service}`,
      'content-type': 'application/json',
      'idempotency-key': `k${i}`,
    },
    body: JSON.stringify({ member: `u${Math.floor(Math.random() * 1000)}@bench.test`, credits: '1.5' }),
  });
  const overviewRequest = () => ({
    method: 'GET',
    path: '/v1/overview',
    headers: { authorization: `Bearer ${admin}` },
  });
  const load = (request) =>
    values.tool === 'autocannon'
      ? viaAutocannon(port, request)
      : httpLoad({ port, connections: 32, seconds, request });
  const usage = await load(usageRequest);
  const overviewRun = await load(overviewRequest);
  const over = await store.query(
    `SELECT count(*) AS n FROM (SELECT sum(capacity) c, sum(used) u FROM budget_counters WHERE account_id = 'bench'
      GROUP BY cycle_no, scope) s WHERE u > c`,
  );
  const check = await verifyLedger(store, 'bench');
  await store.close();
  const rps = usage.perSecond;
  console.log('| figure | value | floor (same run) | ratio | target |');
  console.log('| --- | --- | --- | --- | --- |');
  console.log(
    `| POST /v1/usage, 32 connections | ${rps.toFixed(0)} req/s, p99 ${usage.p99.toFixed(1)} ms, non-2xx ${usage.non2xx} | pgbench -N -c 32: ${floorTps.toFixed(0)} tps | ${(rps / floorTps).toFixed(2)}× | ≥ 0.5× (overspent scopes ${over.rows[0].n}, ledger mismatches ${check.mismatches.length}) |`,
  );
  console.log(
    `| GET /v1/overview, 32 connections | ${overviewRun.perSecond.toFixed(0)} req/s, p99 ${overviewRun.p99.toFixed(1)} ms | pgbench -N -c 32: ${floorTps.toFixed(0)} tps | ${(overviewRun.perSecond / floorTps).toFixed(2)}× | (reported) |`,
  );
} finally {
  api?.kill('SIGTERM');
  await pg.stop();
}

/** The same load through autocannon, in the shape httpLoad returns. */
async function viaAutocannon(port, request) {
  const { default: autocannon } = await import('autocannon');
  let i = 0;
  const r = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 32,
    duration: seconds,
    requests: [{ setupRequest: (req) => ({ ...req, ...request(i++) }) }],
  });
  return {
    perSecond: r.requests.average,
    non2xx: r.non2xx,
    p99: r.latency.p99,
  };
}
