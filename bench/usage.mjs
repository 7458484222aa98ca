#!/usr/bin/env node
// Benchmark: usage events per second through the ledger library on PostgreSQL, one account with 1,000
// members, 32 concurrent callers, against `pgbench -N -c 32` on the same server in the same run.
// Usage: npm run build && node bench/usage.mjs [--seconds 15] [--clients 32] [--alerts]
// --alerts declares threshold alerts (50/80/100 %, one webhook): every counter change then checks them.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startServer } from './pg-server.mjs';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    clients: { type: 'string', default: '32' },
    alerts: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const clients = Number(values.clients);
const dist = new URL('../dist/', import.meta.url);
const { createPgStore } = await import(new URL('state/pg-store.js', dist));
const { migrate } = await import(new URL('state/migrate.js', dist));
const { makePlan } = await import(new URL('planner/plan-against-store.js', dist));
const { applyPlan } = await import(new URL('apply/apply-plan.js', dist));
const { recordUsage } = await import(new URL('ledger/usage.js', dist));
const { verifyLedger } = await import(new URL('ledger/verify.js', dist));

const server = await startServer();
try {
  // Floor: pgbench's simple-update workload without branch/teller updates, same server, same clients.
  server.psql('CREATE DATABASE bench');
  spawnSync(server.bin('pgbench'), ['-i', '-s', '10', '-q', ...server.connArgs('bench')], {
    stdio: 'ignore',
  });
  const pgbench = spawnSync(
    server.bin('pgbench'),
    ['-N', '-c', String(clients), '-j', '2', '-T', String(seconds), ...server.connArgs('bench')],
    { encoding: 'utf8' },
  );
  const floorTps = Number(/tps = ([\d.]+)/.exec(pgbench.stdout)?.[1]);

  server.psql('CREATE DATABASE credits');
  const store = createPgStore(server.url('credits'), { max: clients + 2 });
  await migrate(store);
  const groups = 10;
  const perGroup = 100;
  const lines = [
    'version: 1',
    'account:',
    '  id: bench',
    `  creditLimit: ${groups * perGroup * 1000 + 1000}`,
    '  creditFactor: 1',
    'groups:',
  ];
  for (let g = 0; g < groups; g++) {
    lines.push(`  g${g}:`, `    allocation: ${perGroup * 1000}`, '    members:');
    for (let m = 0; m < perGroup; m++)
      lines.push(`      u${g * perGroup + m}@bench.test: ${m % 2 ? 1000 : '{}'}`);
  }
  lines.push('  default:', '    allocation: 1000');
  if (values.alerts) {
    lines.push('alerts:', '  thresholds: [50, 80, 100]', '  webhooks:');
    lines.push('    - url: http://127.0.0.1:9/hook', '      secretEnv: BENCH_WEBHOOK_SECRET');
  }
  await applyPlan(store, await makePlan(store, { bytes: lines.join('\n') + '\n', file: 'bench.yaml' }), {
    actor: 'bench',
  });
  // As `pgbench -i` analyzes its tables after loading them: plans made on an empty table's statistics
  // would otherwise scan the account's members for every lookup during the measured run.
  await store.query('ANALYZE');

  let ops = 0;
  let blocked = 0;
  let seq = 0;
  const latencies = [];
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < deadline) {
        const member = `u${Math.floor(Math.random() * groups * perGroup)}@bench.test`;
        const start = performance.now();
        try {
          await recordUsage(store, {
            accountId: 'bench',
            member,
            credits: '1.5',
            idempotencyKey: `k${seq++}`,
          });
          ops++;
        } catch (err) {
          if (err.code !== 'BUDGET_EXCEEDED') throw err;
          blocked++;
        }
        latencies.push(performance.now() - start);
      }
    }),
  );
  const tps = (ops + blocked) / seconds;
  const check = await verifyLedger(store, 'bench');
  const over = await store.query(
    `SELECT count(*) AS n FROM (SELECT scope, sum(capacity) c, sum(used) u FROM budget_counters WHERE account_id = 'bench'
      GROUP BY cycle_no, scope) s WHERE u > c`,
  );
  const raised = values.alerts
    ? `, alerts raised: ${(await store.query('SELECT count(*) AS n FROM alert_events')).rows[0].n}`
    : '';
  latencies.sort((a, b) => a - b);
  const p99 = latencies[Math.floor(latencies.length * 0.99)];
  await store.close();
  console.log(
    `| usage events/s, library, ${clients} callers, 1,000 members | ${tps.toFixed(0)}/s (p99 ${p99.toFixed(1)} ms) | pgbench -N -c ${clients}: ${floorTps.toFixed(0)} tps | ${(tps / floorTps).toFixed(2)}× | ≥ 0.5× | overspent scopes: ${over.rows[0].n}, ledger mismatches: ${check.mismatches.length}${raised} |`,
  );
} finally {
  await server.stop();
}
