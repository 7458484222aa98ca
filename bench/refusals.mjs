#!/usr/bin/env node
// Benchmark: what a refusal costs against an acceptance, on one PostgreSQL server in one run. 32 callers
// record usage for members with room (accepted) and then for members whose budget is spent (every event a
// 402 BUDGET_EXCEEDED), through the library and over HTTP (`credits serve`, 32 keep-alive connections).
// The figure is refused events/s ÷ accepted events/s of the same path; the accepted rates are also given
// against `pgbench -N -c 32 -j 2` on the same server, as in bench/usage.mjs and bench/api.mjs.
// Usage: npm run build && node bench/refusals.mjs [--seconds 10] [--clients 32]
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { httpLoad } from './http-load.mjs';
import { startServe } from './lib.mjs';
import { startServer } from './pg-server.mjs';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, clients: { type: 'string', default: '32' } },
});
const seconds = Number(values.seconds);
const clients = Number(values.clients);
const dist = new URL('../dist/', import.meta.url);
const { createPgStore } = await import(new URL('state/pg-store.js', dist));
const { migrate } = await import(new URL('state/migrate.js', dist));
const { makePlan } = await import(new URL('planner/plan-against-store.js', dist));
const { applyPlan } = await import(new URL('apply/apply-plan.js', dist));
const { recordUsage } = await import(new URL('ledger/usage.js', dist));
const { createToken } = await import(new URL('state/tokens.js', dist));
const { verifyLedger } = await import(new URL('ledger/verify.js', dist));

const GROUPS = 10;
const PER_GROUP = 100;
const paying = () => `u${Math.floor(Math.random() * GROUPS * PER_GROUP)}@bench.test`;
// Members of a group whose budget is nil: every event is refused (at the member level).
const blocked = () => `b${Math.floor(Math.random() * PER_GROUP)}@bench.test`;

const pg = await startServer();
let api;
try {
  pg.psql('CREATE DATABASE bench');
  spawnSync(pg.bin('pgbench'), ['-i', '-s', '10', '-q', ...pg.connArgs('bench')], { stdio: 'ignore' });
  const pgbench = spawnSync(
    pg.bin('pgbench'),
    ['-N', '-c', String(clients), '-j', '2', '-T', String(seconds), ...pg.connArgs('bench')],
    { encoding: 'utf8' },
  );
  const floorTps = Number(/tps = ([\d.]+)/.exec(pgbench.stdout)?.[1]);

  pg.psql('CREATE DATABASE credits');
  const url = pg.url('credits');
  const store = createPgStore(url, { max: clients + 2 });
  await migrate(store);
  const lines = [
    'version: 1',
    'account:',
    '  id: bench',
    `  creditLimit: ${GROUPS * PER_GROUP * 1000 + 1000}`,
    '  creditFactor: 1',
    'groups:',
  ];
  for (let g = 0; g < GROUPS; g++) {
    lines.push(`  g${g}:`, `    allocation: ${PER_GROUP * 1000}`, '    members:');
    for (let m = 0; m < PER_GROUP; m++)
      lines.push(`      u${g * PER_GROUP + m}@bench.test: ${m % 2 ? 1000 : '{}'}`);
  }
  lines.push('  capped:', '    allocation: 0', '    members:');
  for (let m = 0; m < PER_GROUP; m++) lines.push(`      b${m}@bench.test: 0`);
  lines.push('  default:', '    allocation: 1000');
  await applyPlan(store, await makePlan(store, { bytes: lines.join('\n') + '\n', file: 'bench.yaml' }), {
    actor: 'bench',
  });
  // As `pgbench -i` analyzes its tables after loading them (see bench/usage.mjs).
  await store.query('ANALYZE');

  let seq = 0;
  /** Events/s of `clients` callers for `seconds`; throws on anything but the expected outcome. */
  const library = async (member, expectRefusal) => {
    let events = 0;
    const deadline = Date.now() + seconds * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (Date.now() < deadline) {
          const call = recordUsage(store, {
            accountId: 'bench',
            member: member(),
            credits: '1.5',
            idempotencyKey: `k${seq++}`,
          });
          if (!expectRefusal) await call;
          else {
            const err = await call.then(
              () => new Error('a blocked member was charged'),
              (e) => e,
            );
            if (err.code !== 'BUDGET_EXCEEDED' || !err.details.remaining?.member) throw err;
          }
          events++;
        }
      }),
    );
    return events / ((performance.now() - started) / 1000);
  };
  const libAccepted = await library(paying, false);
  const libRefused = await library(blocked, true);

  const service = (await createToken(store, { accountId: 'bench', role: 'service' })).token;
  const served = await startServe(url);
  api = served.child;
  const port = served.port;
  const http = async (member, status) => {
    const run = await httpLoad({
      port,
      connections: clients,
      seconds,
      request: () => ({
        method: 'POST',
        path: '/v1/usage',
        headers: {
          authorization: `Bearer ${service}`,
          'content-type': 'application/json',
          'idempotency-key': `k${seq++}`,
        },
        body: JSON.stringify({ member: member(), credits: '1.5' }),
      }),
    });
    const unexpected = run.requests - (run.statuses[status] ?? 0);
    if (unexpected)
      throw new Error(`${unexpected} answers other than ${status}: ${JSON.stringify(run.statuses)}`);
    return run;
  };
  const httpAccepted = await http(paying, 201);
  const httpRefused = await http(blocked, 402);

  const over = await store.query(
    `SELECT count(*) AS n FROM (SELECT sum(capacity) c, sum(used) u FROM budget_counters WHERE account_id = 'bench'
      GROUP BY cycle_no, scope) s WHERE u > c`,
  );
  const check = await verifyLedger(store, 'bench');
  await store.close();
  const r = (a, b) => `${(a / b).toFixed(2)}×`;
  const ms = (run) => `p99 ${run.p99.toFixed(1)} ms`;
  console.log('| figure | value | floor (same run) | ratio | target |');
  console.log('| --- | --- | --- | --- | --- |');
  console.log(
    `| usage accepted, library, ${clients} callers | ${libAccepted.toFixed(0)}/s | pgbench -N: ${floorTps.toFixed(0)} tps | ${r(libAccepted, floorTps)} | ≥ 1.0× |`,
  );
  console.log(
    `| usage refused (402), library, ${clients} callers | ${libRefused.toFixed(0)}/s | accepted, library: ${libAccepted.toFixed(0)}/s | ${r(libRefused, libAccepted)} | ≥ 1.0× |`,
  );
  console.log(
    `| usage accepted, HTTP, ${clients} connections | ${httpAccepted.perSecond.toFixed(0)} req/s, ${ms(httpAccepted)} | pgbench -N: ${floorTps.toFixed(0)} tps | ${r(httpAccepted.perSecond, floorTps)} | ≥ 0.6× |`,
  );
  console.log(
    `| usage refused (402), HTTP, ${clients} connections | ${httpRefused.perSecond.toFixed(0)} req/s, ${ms(httpRefused)} | accepted, HTTP: ${httpAccepted.perSecond.toFixed(0)} req/s | ${r(httpRefused.perSecond, httpAccepted.perSecond)} | ≥ 1.0× |`,
  );
  console.log(`overspent scopes: ${over.rows[0].n}, ledger mismatches: ${check.mismatches.length}`);
} finally {
  api?.kill('SIGTERM');
  await pg.stop();
}
