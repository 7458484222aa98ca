#!/usr/bin/env node
// Benchmark: `credits plan --replay`'s replay of a cycle of 1,000,000 usage events over 100,000 members on
// PostgreSQL: read (aggregate per member and hour in SQL) + walk the proposed budgets, against the floor of
// `SELECT count(*)` over the same cycle's ledger rows, in the same run. Target: ≤ 10 s.
// Usage: npm run build && node bench/replay.mjs [--members 100000] [--events 1000000] [--runs 3]
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { generate } from './generate.mjs';
import { fmt, ratio, timeAsync } from './lib.mjs';
import { startServer } from './pg-server.mjs';

const { values } = parseArgs({
  options: {
    members: { type: 'string', default: '100000' },
    events: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
  },
});
const members = Number(values.members);
const events = Number(values.events);
const runs = Number(values.runs);
const root = resolve(new URL('..', import.meta.url).pathname);
const dist = (p) => join(root, 'dist', p);
const { createPgStore } = await import(dist('state/pg-store.js'));
const { readReplayUsage } = await import(dist('ledger/replay-usage.js'));
const { replayUsage } = await import(dist('plan/replay.js'));
const { loadConfig } = await import(dist('config/load-config.js'));

const dir = mkdtempSync(join(tmpdir(), 'credits-bench-replay-'));
const file = join(dir, 'big.yaml');
const text = generate({ members, groups: Math.max(1, Math.round(members / 100)) });
writeFileSync(file, text);
const server = await startServer();
try {
  server.psql('CREATE DATABASE credits');
  const url = server.url('credits');
  const cli = (args) => {
    const r = spawnSync(process.execPath, [join(root, 'bin/credits.js'), ...args], {
      env: { ...process.env, DATABASE_URL: url, CI: 'true' },
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (r.status !== 0) throw new Error(`credits ${args.join(' ')}: ${r.stderr}`);
  };
  cli(['apply', '-f', file, '--auto-approve']);
  // A month of usage in cycle 1: events spread over 720 hours and all members, then a reset opens cycle 2.
  server.psql(
    `UPDATE cycles SET starts_at = now() - interval '30 days';
     INSERT INTO ledger_entries (account_id, cycle_no, member_email, group_key, kind, credits, charges, created_at)
     SELECT 'bench', 1, 'user' || lpad(((i::bigint * 7919) % ${members})::text, 6, '0') || '@bench.example', 'x', 'usage',
            ((i % 97) + 1) / 10.0, '{}', now() - interval '30 days' + (i % 720) * interval '1 hour'
       FROM generate_series(1, ${events}) AS i;
     ANALYZE ledger_entries;`,
    'credits',
  );
  cli(['reset-cycle', '--account', 'bench', '--yes']);
  const loaded = loadConfig(Buffer.from(text), { file });
  if (!loaded.ok) throw new Error('generated file is invalid');
  const store = createPgStore(url);
  let result;
  const floor = await timeAsync(
    () => store.query("SELECT count(*) FROM ledger_entries WHERE account_id = 'bench' AND cycle_no = 1"),
    { runs },
  );
  const replay = await timeAsync(
    async () => {
      result = replayUsage(loaded.desired, await readReplayUsage(store, 'bench'));
    },
    { runs },
  );
  await store.close();
  console.log(
    `replay used ${result.used}, refused ${result.refused}, ${result.members.length} members blocked`,
  );
  console.log('| what | time | floor | ratio | target | met |');
  console.log('| --- | ---: | ---: | ---: | --- | --- |');
  console.log(
    `| replay of ${events.toLocaleString('en')} events over ${members.toLocaleString('en')} members, PostgreSQL (median of ${runs}) | ${fmt(replay)} | count(*) ${fmt(floor)} | ${ratio(replay, floor)} | ≤ 10 s | ${replay <= 10_000 ? 'yes' : 'no'} |`,
  );
} finally {
  await server.stop();
}
