#!/usr/bin/env node
// Benchmark: what the alert trigger (migration 016) costs usage, measured inside one run so the machine's
// load falls on every mode alike. The account of bench/usage.mjs (1,000 members, 32 callers) records usage
// in short alternating blocks: the trigger disabled (as before migration 016), the trigger with no
// thresholds declared (alerts off), and thresholds 50/80/100 % declared (alerts on, below every threshold).
// Usage: npm run build && node bench/alerts-overhead.mjs [--rounds 8] [--block 2] [--clients 32] [--credits 1.5]
import { parseArgs } from 'node:util';
import { startServer } from './pg-server.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '8' },
    block: { type: 'string', default: '2' },
    clients: { type: 'string', default: '32' },
    credits: { type: 'string', default: '1.5' },
  },
});
const rounds = Number(values.rounds);
const blockMs = Number(values.block) * 1000;
const clients = Number(values.clients);
const dist = new URL('../dist/', import.meta.url);
const { createPgStore } = await import(new URL('state/pg-store.js', dist));
const { migrate } = await import(new URL('state/migrate.js', dist));
const { makePlan } = await import(new URL('planner/plan-against-store.js', dist));
const { applyPlan } = await import(new URL('apply/apply-plan.js', dist));
const { recordUsage } = await import(new URL('ledger/usage.js', dist));

const server = await startServer();
try {
  server.psql('CREATE DATABASE credits');
  const store = createPgStore(server.url('credits'), { max: clients + 2 });
  await migrate(store);
  const lines = [
    'version: 1',
    'account:',
    '  id: bench',
    '  creditLimit: 1001000',
    '  creditFactor: 1',
    'groups:',
  ];
  for (let g = 0; g < 10; g++) {
    lines.push(`  g${g}:`, '    allocation: 100000', '    members:');
    for (let m = 0; m < 100; m++) lines.push(`      u${g * 100 + m}@bench.test: ${m % 2 ? 1000 : '{}'}`);
  }
  lines.push('  default:', '    allocation: 1000');
  lines.push('alerts:', '  thresholds: [50, 80, 100]', '  webhooks:');
  lines.push('    - url: http://127.0.0.1:9/hook', '      secretEnv: BENCH_WEBHOOK_SECRET');
  await applyPlan(store, await makePlan(store, { bytes: lines.join('\n') + '\n', file: 'bench.yaml' }), {
    actor: 'bench',
  });
  await store.query('ANALYZE');

  const MODES = {
    'no trigger (before 016)': async () => {
      await store.query('ALTER TABLE budget_counters DISABLE TRIGGER budget_counters_alerts');
    },
    'alerts off (no thresholds)': async () => {
      await store.query('ALTER TABLE budget_counters ENABLE TRIGGER budget_counters_alerts');
      await store.query("DELETE FROM alert_thresholds WHERE account_id = 'bench'");
    },
    'alerts on (50/80/100 %)': async () => {
      await store.query('ALTER TABLE budget_counters ENABLE TRIGGER budget_counters_alerts');
      await store.query(
        "INSERT INTO alert_thresholds (account_id, percent) VALUES ('bench', 50), ('bench', 80), ('bench', 100) ON CONFLICT DO NOTHING",
      );
    },
  };
  const totals = Object.fromEntries(Object.keys(MODES).map((m) => [m, { ops: 0, ms: 0, rates: [] }]));
  let seq = 0;
  const block = async () => {
    let ops = 0;
    const start = performance.now();
    const deadline = Date.now() + blockMs;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (Date.now() < deadline) {
          const member = `u${Math.floor(Math.random() * 1000)}@bench.test`;
          await recordUsage(store, {
            accountId: 'bench',
            member,
            credits: values.credits,
            idempotencyKey: `k${seq++}`,
          });
          ops++;
        }
      }),
    );
    return { ops, ms: performance.now() - start };
  };
  await MODES['alerts on (50/80/100 %)']();
  await block(); // warm-up
  for (let r = 0; r < rounds; r++) {
    // Rotate the order each round, so no mode always follows the same one.
    const names = Object.keys(MODES);
    const order = names.slice(r % names.length).concat(names.slice(0, r % names.length));
    for (const name of order) {
      await MODES[name]();
      const b = await block();
      totals[name].ops += b.ops;
      totals[name].ms += b.ms;
      totals[name].rates.push(Math.round((b.ops * 1000) / b.ms));
    }
  }
  const raised = (await store.query('SELECT count(*) AS n FROM alert_events')).rows[0].n;
  await store.close();
  const base = totals['no trigger (before 016)'];
  const baseRate = (base.ops * 1000) / base.ms;
  for (const [name, t] of Object.entries(totals)) {
    const rate = (t.ops * 1000) / t.ms;
    console.log(
      `| ${name} | ${rate.toFixed(0)}/s | ${(rate / baseRate).toFixed(3)}× | ${t.rates.join(' / ')} |`,
    );
  }
  console.log(`alerts raised: ${raised} (usage stays below every threshold)`);
} finally {
  await server.stop();
}
