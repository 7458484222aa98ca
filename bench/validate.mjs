#!/usr/bin/env node
// Benchmark: `credits validate` as a whole process, against floors measured in the same run:
//  - the 100k-member file vs a bare js-yaml load of it (in a process of its own);
//  - a small file vs a bare `node -e 0` start.
// Usage: node bench/validate.mjs [--members 100000] [--runs 5]   (run `npm run build` first)
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generate } from './generate.mjs';
import { fmt, ratio, timeProcess } from './lib.mjs';

const { values } = parseArgs({
  options: { members: { type: 'string', default: '100000' }, runs: { type: 'string', default: '5' } },
});
const runs = Number(values.runs);
const root = resolve(new URL('..', import.meta.url).pathname);
const dir = mkdtempSync(join(tmpdir(), 'credits-bench-'));
const big = join(dir, 'big.yaml');
writeFileSync(
  big,
  generate({ members: Number(values.members), groups: Math.max(1, Number(values.members) / 100) }),
);
const bin = join(root, 'bin/credits.js');
const jsYaml = join(root, 'node_modules/js-yaml/index.js');

const floorBig = timeProcess(
  [
    '-e',
    `require(${JSON.stringify(jsYaml)}).load(require('fs').readFileSync(${JSON.stringify(big)}, 'utf8'))`,
  ],
  { runs },
);
const validateBig = timeProcess([bin, 'validate', '-f', big], { runs });
const floorStart = timeProcess(['-e', '0'], { runs: runs * 2 });
const validateSmall = timeProcess([bin, 'validate', '-f', join(root, 'examples/small.yaml')], {
  runs: runs * 2,
});

console.log(
  `| validate ${values.members}-member file | ${fmt(validateBig)} | js-yaml load ${fmt(floorBig)} | ${ratio(validateBig, floorBig)} | ≤ 3× |`,
);
console.log(
  `| validate small file (process) | ${fmt(validateSmall)} | node -e 0 ${fmt(floorStart)} | ${ratio(validateSmall, floorStart)} | ≤ 4× |`,
);
