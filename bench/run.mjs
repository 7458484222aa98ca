#!/usr/bin/env node
// Runs the benchmarks one after another (each prints its own table; docs/benchmarks.md says how to read
// them). `npm run bench` runs all; `npm run bench -- usage refusals` runs those named. Build first.
import { spawnSync } from 'node:child_process';

const ALL = ['validate', 'plan-apply', 'usage', 'api', 'usage-batch', 'refusals', 'replay'];
const names = process.argv.slice(2).length ? process.argv.slice(2) : ALL;
const unknown = names.filter((n) => !ALL.includes(n));
if (unknown.length) {
  console.error(`unknown benchmark: ${unknown.join(', ')} (one of ${ALL.join(', ')})`);
  process.exit(2);
}
for (const name of names) {
  console.log(`\n## ${name}\n`);
  const r = spawnSync(process.execPath, [new URL(`${name}.mjs`, import.meta.url).pathname], {
    stdio: 'inherit',
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
