#!/usr/bin/env node
// Benchmark: plan and apply of a 100k-member / 1k-group file as whole `credits` processes, on PostgreSQL
// and PGlite, each against a floor measured in the same run:
//  - no-op plan, and a one-member change (plan, apply): floor = js-yaml parse of the file + SELECT of the
//    same member rows (one node process). An edited file is planned from its changed group entries (the last
//    applied text is kept); `every` comments every group, which forces the full parse + inspect + diff;
//  - apply of 100k new members into an empty account: floor = COPY of the same rows into a similar table.
// Usage: npm run build && node bench/plan-apply.mjs [--members 100000] [--runs 3] [--only pg|pglite]
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generate } from './generate.mjs';
import { fmt, ratio, timeProcess } from './lib.mjs';
import { startServer } from './pg-server.mjs';

const { values } = parseArgs({
  options: {
    members: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string' },
  },
});
const members = Number(values.members);
const runs = Number(values.runs);
const root = resolve(new URL('..', import.meta.url).pathname);
const bin = join(root, 'bin/credits.js');
const dir = mkdtempSync(join(tmpdir(), 'credits-bench-'));
const groups = Math.max(1, Math.round(members / 100));
const big = join(dir, 'big.yaml');
const changed = join(dir, 'changed.yaml');
const touched = join(dir, 'touched.yaml');
const text = generate({ members, groups });
writeFileSync(big, text);
writeFileSync(touched, text + '# touched: same content, new digest\n');
// A comment on every group header: every entry differs from the applied text, so the whole file is parsed.
const every = join(dir, 'every.yaml');
writeFileSync(every, text.replace(/^( {2}team-\d+:)$/gm, '$1 # touched'));
writeFileSync(changed, generate({ members, groups, change: Math.floor(members / 2) }));
const rows = [];
const row = (what, value, floorName, floor, target) =>
  rows.push(
    `| ${what} | ${fmt(value)} | ${floorName} ${fmt(floor)} | ${ratio(value, floor)} | ${target} | ${value / floor <= Number(target.replace(/[^\d.]/g, '')) ? 'yes' : 'no'} |`,
  );

const floorScript = (select) => `
  const yaml = require(${JSON.stringify(join(root, 'node_modules/js-yaml/index.js'))});
  yaml.load(require('fs').readFileSync(${JSON.stringify(big)}, 'utf8'));
  ${select}`;

async function postgres() {
  const server = await startServer();
  try {
    server.psql('CREATE DATABASE credits');
    const env = { DATABASE_URL: server.url('credits'), CI: 'true' };
    const applyNew = timeProcess([bin, 'apply', '-f', big, '--auto-approve'], { runs: 1, env });
    // Floor for the bulk write: COPY the same rows into a similar table on the same server.
    const csv = join(dir, 'members.csv');
    writeFileSync(
      csv,
      text
        .split('\n')
        .filter((l) => /^ {6}\S+@/.test(l))
        .map((l, i) => `${l.trim().split(':')[0]},team-${i % groups},100,0`)
        .join('\n') + '\n',
    );
    server.psql(
      'CREATE TABLE copy_floor (email text, group_key text, allocation numeric(24,6), extra numeric(24,6))',
      'credits',
    );
    const copyOut = server.psql(`\\timing on\n\\copy copy_floor FROM '${csv}' csv`, 'credits');
    const copyMs = Number(/Time: ([\d.]+) ms/.exec(copyOut)?.[1]);
    // A second floor shaped like `members`: the same key and secondary index.
    server.psql(
      `CREATE TABLE copy_like_members (account_id text NOT NULL DEFAULT 'bench', email text, group_key text,
         allocation numeric(24,6), extra numeric(24,6), PRIMARY KEY (account_id, email));
       CREATE INDEX ON copy_like_members (account_id, group_key, email);`,
      'credits',
    );
    const likeOut = server.psql(
      `\\timing on\n\\copy copy_like_members (email, group_key, allocation, extra) FROM '${csv}' csv`,
      'credits',
    );
    const copyLikeMs = Number(/Time: ([\d.]+) ms/.exec(likeOut)?.[1]);
    row(`apply ${members} new members (PostgreSQL, process)`, applyNew, 'COPY of the rows', copyMs, '≤ 10×');
    // The write itself: applyPlan() of the same plan into another empty database, timed in-process.
    server.psql('CREATE DATABASE credits_inproc');
    const dist = new URL('../dist/', import.meta.url);
    const { createPgStore } = await import(new URL('state/pg-store.js', dist));
    const { migrate } = await import(new URL('state/migrate.js', dist));
    const { makePlan } = await import(new URL('planner/plan-against-store.js', dist));
    const { applyPlan } = await import(new URL('apply/apply-plan.js', dist));
    const store = createPgStore(server.url('credits_inproc'));
    await migrate(store);
    const made = await makePlan(store, { bytes: text, file: 'big.yaml' });
    const t0 = performance.now();
    await applyPlan(store, made, { actor: 'bench' });
    const applyOnly = performance.now() - t0;
    await store.close();
    row(
      `applyPlan() of ${members} new members (PostgreSQL, the transaction)`,
      applyOnly,
      'COPY of the rows',
      copyMs,
      '≤ 10×',
    );
    row(
      `applyPlan() of ${members} new members (PostgreSQL, the transaction)`,
      applyOnly,
      'COPY into a members-shaped table',
      copyLikeMs,
      '≤ 10×',
    );

    const pgModule = join(root, 'node_modules/pg/lib/index.js');
    const floor = timeProcess(
      [
        '-e',
        floorScript(`
      const pg = require(${JSON.stringify(pgModule)});
      const c = new pg.Client(${JSON.stringify(server.url('credits'))});
      c.connect().then(() => c.query("SELECT email, group_key, allocation, extra FROM members WHERE account_id = 'bench'")).then(() => c.end());`),
      ],
      { runs },
    );
    row(
      'no-op plan (PostgreSQL, process)',
      timeProcess([bin, 'plan', '-f', big], { runs, env }),
      'js-yaml + SELECT',
      floor,
      '≤ 3×',
    );
    row(
      'no-op plan, trailing comment (PostgreSQL, process)',
      timeProcess([bin, 'plan', '-f', touched], { runs, env }),
      'js-yaml + SELECT',
      floor,
      '≤ 3×',
    );
    row(
      'no-op plan, full path (PostgreSQL, process)',
      timeProcess([bin, 'plan', '-f', every], { runs, env }),
      'js-yaml + SELECT',
      floor,
      '≤ 3×',
    );
    row(
      'plan one changed member (PostgreSQL, process)',
      timeProcess([bin, 'plan', '-f', changed], { runs, env }),
      'js-yaml + SELECT',
      floor,
      '≤ 1.5×',
    );
    row(
      'apply one changed member (PostgreSQL, process)',
      timeProcess([bin, 'apply', '-f', changed, '--auto-approve'], { runs: 1, env }),
      'js-yaml + SELECT',
      floor,
      '≤ 1.5×',
    );
    // The CI flow: the big file back by a saved plan (plan --out in the pull request, apply plan.json on
    // merge: its configuration is planned again under the apply lock and compared), then the next pull
    // request's plan of one changed member.
    const saved = join(dir, 'saved.json');
    timeProcess([bin, 'plan', '-f', big, '--out', saved], { runs: 1, env });
    row(
      'apply plan.json of one changed member, re-planned under the lock (PostgreSQL, process)',
      timeProcess([bin, 'apply', saved], { runs: 1, env }),
      'js-yaml + SELECT',
      floor,
      '≤ 1.5×',
    );
    row(
      'plan one changed member after `apply plan.json` (PostgreSQL, process)',
      timeProcess([bin, 'plan', '-f', changed], { runs, env }),
      'js-yaml + SELECT',
      floor,
      '≤ 1.5×',
    );
  } finally {
    await server.stop();
  }
}

async function pglite() {
  const data = join(dir, 'pglite');
  const env = { CREDITS_DATA_DIR: data, CI: 'true' };
  const pgliteModule = join(root, 'node_modules/@electric-sql/pglite/dist/index.cjs');
  const applyNew = timeProcess([bin, 'apply', '-f', big, '--auto-approve'], { runs: 1, env });
  const floor = timeProcess(
    [
      '-e',
      floorScript(`
    const { PGlite } = require(${JSON.stringify(pgliteModule)});
    PGlite.create(${JSON.stringify(data)}).then(async (db) => {
      await db.query("SELECT email, group_key, allocation, extra FROM members WHERE account_id = 'bench'");
      await db.close();
    });`),
    ],
    { runs },
  );
  const insertFloor = timeProcess(
    [
      '-e',
      `
    const { PGlite } = require(${JSON.stringify(pgliteModule)});
    PGlite.create().then(async (db) => {
      await db.exec('CREATE TABLE t (email text, group_key text, allocation numeric(24,6), extra numeric(24,6))');
      const emails = Array.from({ length: ${members} }, (_, i) => 'user' + i + '@bench.example');
      const t0 = Date.now();
      await db.query('INSERT INTO t SELECT e, $2, 100, 0 FROM unnest($1::text[]) e', [emails, 'team']);
      await db.close();
    });`,
    ],
    { runs: 1 },
  );
  row(
    `apply ${members} new members (PGlite, process)`,
    applyNew,
    'PGlite start + multi-row INSERT',
    insertFloor,
    '≤ 10×',
  );
  row(
    'no-op plan (PGlite, process)',
    timeProcess([bin, 'plan', '-f', big], { runs, env }),
    'js-yaml + open + SELECT',
    floor,
    '≤ 1×',
  );
  row(
    'no-op plan, trailing comment (PGlite, process)',
    timeProcess([bin, 'plan', '-f', touched], { runs, env }),
    'js-yaml + open + SELECT',
    floor,
    '≤ 1×',
  );
  row(
    'no-op plan, full path (PGlite, process)',
    timeProcess([bin, 'plan', '-f', every], { runs, env }),
    'js-yaml + open + SELECT',
    floor,
    '≤ 1×',
  );
  row(
    'plan one changed member (PGlite, process)',
    timeProcess([bin, 'plan', '-f', changed], { runs, env }),
    'js-yaml + open + SELECT',
    floor,
    '≤ 1.5×',
  );
  row(
    'apply one changed member (PGlite, process)',
    timeProcess([bin, 'apply', '-f', changed, '--auto-approve'], { runs: 1, env }),
    'js-yaml + open + SELECT',
    floor,
    '≤ 1.5×',
  );
}

if (values.only !== 'pglite') await postgres();
if (values.only !== 'pg') await pglite();
console.log('| figure | value | floor (same run) | ratio | target | met |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);
