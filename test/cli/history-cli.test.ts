// `credits usage` and `credits audit` as child processes, on embedded PGlite and on PostgreSQL: filters,
// the three formats (CSV quoting of commas, quotes and line breaks included), summary sums equal to the
// rows, an apply's commit and actor in the audit log, and coded errors for bad options.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { credits, projectDir } from '../support/cli-process.js';
import { freshPgUrl } from '../support/databases.js';
import { csvObjects } from '../support/csv.js';
import { createPgStore } from '../../src/state/pg-store.js';
import { openPgliteStore } from '../../src/state/pglite-store.js';
import { sum } from '../../src/decimal.js';
import type { Store } from '../../src/state/store.js';

const SHA = 'fedcba9876543210fedcba9876543210fedcba98';
const MODEL = 'gpt-4, "turbo"\nline two';
const METADATA = { note: 'a,"b"\r\nc' };

const stores: [
  string,
  (dir: string) => Promise<{ env: Record<string, string>; open: () => Promise<Store> }>,
][] = [
  ['pglite', async (dir) => ({ env: {}, open: () => openPgliteStore(join(dir, '.credits/db')) })],
  [
    'postgres',
    async () => {
      const url = await freshPgUrl();
      return { env: { DATABASE_URL: url }, open: async () => createPgStore(url) };
    },
  ],
];

const closing: Store[] = [];
afterAll(async () => {
  for (const s of closing) await s.close();
});

describe.each(stores)('credits usage and credits audit on %s', (_kind, setUp) => {
  let dir: string;
  let env: Record<string, string>;
  const run = (args: string[]) => credits(dir, args, env);

  it('lists, filters, sums and exports usage; shows the apply in the audit log', async () => {
    dir = projectDir();
    let open: () => Promise<Store>;
    ({ env, open } = await setUp(dir));
    const applied = await run(['apply', '--auto-approve', '--actor', 'ci@example.com', '--commit', SHA]);
    expect(applied.code, applied.stderr).toBe(0);
    // Rows by SQL while no command holds the database: three members, known instants, one awkward model.
    const store = await open();
    await store.query(
      `INSERT INTO ledger_entries (account_id, cycle_no, member_email, group_key, kind, credits, cost_usd, model, metadata, created_at)
       SELECT 'acme', 1, (ARRAY['alice@acme.com','bob@acme.com','dave@acme.com'])[k % 3 + 1],
              (ARRAY['engineering','engineering','research'])[k % 3 + 1], 'usage', k * 0.5 + 0.000001,
              CASE WHEN k % 2 = 0 THEN k * 0.01 END, CASE WHEN k = 7 THEN $1 ELSE 'm' || k END,
              CASE WHEN k = 7 THEN $2::jsonb END, '2026-03-01T00:00:00Z'::timestamptz + k * interval '5 hours'
         FROM generate_series(0, 29) AS k`,
      [MODEL, JSON.stringify(METADATA)],
    );
    await store.close();

    const csv = await run(['usage', '--format', 'csv']);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout.split('\r\n')[0]).toBe('id,member,group,credits,costUsd,model,cycle,at,metadata');
    const rows = csvObjects(csv.stdout);
    expect(rows).toHaveLength(30);
    expect(rows[7]).toMatchObject({
      member: 'bob@acme.com',
      group: 'engineering',
      credits: '3.500001',
      costUsd: '',
      model: MODEL,
      at: '2026-03-02T11:00:00.000Z',
    });
    expect(JSON.parse(rows[7]!.metadata!)).toEqual(METADATA);

    const json = await run(['usage', '--format', 'json', '--member', 'ALICE@acme.com']);
    expect(json.code, json.stderr).toBe(0);
    const alice = JSON.parse(json.stdout) as { member: string; credits: string; costUsd: string | null }[];
    expect(alice).toHaveLength(10);
    expect(alice.every((e) => e.member === 'alice@acme.com')).toBe(true);
    expect(alice.map((e) => e.credits)).toEqual(
      rows.filter((r) => r.member === 'alice@acme.com').map((r) => r.credits),
    );

    const window = JSON.parse(
      (
        await run([
          'usage',
          '--format',
          'json',
          '--group',
          'research',
          '--from',
          '2026-03-02',
          '--to',
          '2026-03-04',
        ])
      ).stdout,
    ) as { at: string; group: string }[];
    expect(window.map((e) => e.at)).toEqual(
      rows
        .filter((r) => r.group === 'research' && r.at! >= '2026-03-02' && r.at! < '2026-03-04')
        .map((r) => r.at),
    );
    expect(window.length).toBeGreaterThan(0);

    const table = await run(['usage', '--limit', '3']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^id\s+member\s+group\s+credits\s+costUsd\s+model\s+cycle\s+at$/);
    expect(lines).toHaveLength(4);
    expect(table.stderr).toContain('showing the first 3 usage entries');

    const summary = await run(['usage', '--summary', '--by', 'group', '--bucket', 'day', '--format', 'json']);
    expect(summary.code, summary.stderr).toBe(0);
    const sums = JSON.parse(summary.stdout) as {
      key: string;
      bucket: string;
      credits: string;
      entries: number;
    }[];
    for (const group of ['engineering', 'research']) {
      const raw = rows.filter((r) => r.group === group);
      const s = sums.filter((x) => x.key === group);
      expect(sum(s.map((x) => x.credits))).toBe(sum(raw.map((r) => r.credits!)));
      expect(s.reduce((n, x) => n + x.entries, 0)).toBe(raw.length);
      for (const x of s) {
        expect(x.credits).toBe(
          sum(raw.filter((r) => r.at!.slice(0, 10) === x.bucket.slice(0, 10)).map((r) => r.credits!)),
        );
      }
    }

    const audit = await run(['audit', '--format', 'json', '--member', 'alice@acme.com']);
    expect(audit.code, audit.stderr).toBe(0);
    expect(JSON.parse(audit.stdout)).toEqual([
      expect.objectContaining({
        actor: 'ci@example.com',
        source: 'apply',
        commitSha: SHA,
        address: 'member.alice@acme.com',
        action: 'create',
      }),
    ]);
    const auditCsv = csvObjects((await run(['audit', '--format', 'csv'])).stdout);
    expect(auditCsv.length).toBeGreaterThan(3);
    expect(auditCsv.every((r) => r.commitSha === SHA && r.actor === 'ci@example.com')).toBe(true);
    const auditTable = await run(['audit', '--source', 'apply', '--limit', '2']);
    expect(auditTable.stdout).toContain(SHA.slice(0, 12));
  }, 180_000);

  it.each([
    [['usage', '--from', 'yesterday'], 'INVALID_DATE'],
    [['usage', '--from', '2026-03-02', '--to', '2026-03-01'], 'INVALID_TIME_RANGE'],
    [['usage', '--format', 'xml'], 'VALIDATION_FAILED'],
    [['usage', '--limit', '0'], 'VALIDATION_FAILED'],
    [['usage', '--summary', '--by', 'team'], 'VALIDATION_FAILED'],
    [['audit', '--to', '2026-02-30'], 'INVALID_DATE'],
    [['audit', '--account', 'nope'], 'ACCOUNT_NOT_FOUND'],
  ])(
    '%j fails with %s',
    async (args, code) => {
      const r = await run(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(code);
      expect(r.stdout).toBe('');
    },
    60_000,
  );
});
