#!/usr/bin/env node
// Benchmark: the API over loopback HTTP (autocannon, 32 connections) on PostgreSQL, against
// `pgbench -N -c 32` on the same server in the same run:
//  - POST /v1/usage for one account with 1,000 members (each request a distinct Idempotency-Key), with the
//    overspend check afterwards; p99 latency;
//  - GET /v1/overview.
// Usage: npm run build && node bench/api.mjs [--seconds 10]
import { spawn, spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startServer } from './pg-server.mjs';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' } } });
const seconds = Number(values.seconds);
const dist = new URL('../dist/', import.meta.url);
const { createPgStore } = await import(new URL('state/pg-store.js', dist));
const { migrate } = await import(new URL('state/migrate.js', dist));
const { makePlan } = await import(new URL('apply/make-plan.js', dist));
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
  const service = (await createToken(store, { accountId: 'bench', role: 'service' })).token;
  const admin = (await createToken(store, { accountId: 'bench', role: 'admin' })).token;

  const port = 3900 + Math.floor(Math.random() * 500);
  api = spawn(
    process.execPath,
    [new URL('../bin/credits.js', import.meta.url).pathname, 'serve', '--port', String(port)],
    {
      env: { ...process.env, DATABASE_URL: url, CREDITS_LOG: 'off', CREDITS_RATE_LIMIT: '100000000' },
      stdio: 'ignore',
    },
  );
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  let seq = 0;
  const usage = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 32,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/v1/usage',
        setupRequest: (req) => ({
          ...req,
          headers: {
            authorization: `Bearer ${service}`,
            'content-type': 'application/json',
            'idempotency-key': `k${seq++}`,
          },
          body: JSON.stringify({ member: `u${Math.floor(Math.random() * 1000)}@bench.test`, credits: '1.5' }),
        }),
      },
    ],
  });
  const overviewRun = await autocannon({
    url: `http://127.0.0.1:${port}/v1/overview`,
    connections: 32,
    duration: seconds,
    headers: { authorization: `Bearer ${admin}` },
  });
  const over = await store.query(
    `SELECT count(*) AS n FROM (SELECT sum(capacity) c, sum(used) u FROM budget_counters WHERE account_id = 'bench'
      GROUP BY cycle_no, scope) s WHERE u > c`,
  );
  const check = await verifyLedger(store, 'bench');
  await store.close();
  const rps = usage.requests.average;
  console.log('| figure | value | floor (same run) | ratio | target |');
  console.log('| --- | --- | --- | --- | --- |');
  console.log(
    `| POST /v1/usage, 32 connections | ${rps.toFixed(0)} req/s, p99 ${usage.latency.p99} ms, non-2xx ${usage.non2xx} | pgbench -N -c 32: ${floorTps.toFixed(0)} tps | ${(rps / floorTps).toFixed(2)}× | ≥ 0.5× (overspent scopes ${over.rows[0].n}, ledger mismatches ${check.mismatches.length}) |`,
  );
  console.log(
    `| GET /v1/overview, 32 connections | ${overviewRun.requests.average.toFixed(0)} req/s, p99 ${overviewRun.latency.p99} ms | pgbench -N -c 32: ${floorTps.toFixed(0)} tps | ${(overviewRun.requests.average / floorTps).toFixed(2)}× | (reported) |`,
  );
} finally {
  api?.kill('SIGTERM');
  await pg.stop();
}
