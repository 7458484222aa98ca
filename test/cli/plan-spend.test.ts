// Spend-aware plans as a user runs them (the CLI as a child process), on PostgreSQL and the embedded database:
// a cut below what a member used this cycle shows used and remaining, warns ALLOCATION_BELOW_USED,
// --fail-on-warning exits 1; a value changed by SQL names no one (no audit row).
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freshPgUrl } from '../support/databases.js';
import { createPgStore } from '../../src/state/pg-store.js';
import { openPgliteStore } from '../../src/state/pglite-store.js';
import { migrate } from '../../src/state/migrate.js';
import { makePlan } from '../../src/apply/make-plan.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { recordUsage } from '../../src/ledger/usage.js';
import type { Store } from '../../src/state/store.js';

const config = (alice: string) => `version: 1
account:
  id: acme
  creditLimit: 10000
  creditFactor: 1
groups:
  eng:
    allocation: 8000
    members:
      alice@acme.test: ${alice}
      bob@acme.test: 1000
  default:
    allocation: 100
`;

async function prepare(store: Store): Promise<void> {
  await migrate(store);
  await applyPlan(store, await makePlan(store, { bytes: config('5000'), file: 'c.yaml' }), { actor: 't' });
  await recordUsage(store, { accountId: 'acme', member: 'alice@acme.test', credits: '4000' });
  // Drift without an audit row: an edit by SQL.
  await store.query("UPDATE members SET allocation = 1200 WHERE email = 'bob@acme.test'");
}

/** The CLI as a child process, awaited (a synchronous spawn would block the test worker for its whole run). */
function plan(
  cwd: string,
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [resolve('bin/credits.js'), 'plan', ...args], {
      cwd,
      env: { ...process.env, CI: 'true', NO_COLOR: '1', DATABASE_URL: undefined, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const targets = [
  [
    'postgres',
    async () => {
      const url = await freshPgUrl();
      const store = createPgStore(url);
      await prepare(store);
      await store.close();
      return { DATABASE_URL: url };
    },
  ],
  [
    'pglite',
    async () => {
      const dir = join(mkdtempSync(join(tmpdir(), 'credits-spend-')), 'db');
      const store = await openPgliteStore(dir);
      await prepare(store);
      await store.close();
      return { CREDITS_DATA_DIR: dir };
    },
  ],
] as const;

describe.each(targets)('spend-aware plans on %s', (_kind, setUp) => {
  it('shows used and remaining, warns first, names who drifted, and --fail-on-warning fails', async () => {
    const env = await setUp();
    const cwd = mkdtempSync(join(tmpdir(), 'credits-spend-cli-'));
    writeFileSync(join(cwd, 'credits.yaml'), config('3000'));

    const json = JSON.parse((await plan(cwd, ['--json'], env)).stdout) as {
      changes: { address: string; spend?: object; changedBy?: object }[];
      warnings: { code: string; address?: string }[];
    };
    const alice = json.changes.find((c) => c.address === 'member.alice@acme.test.allocation');
    expect(alice?.spend).toEqual({ used: '4000', budget: '3000', remaining: '-1000' });
    expect(json.warnings[0]).toMatchObject({
      code: 'ALLOCATION_BELOW_USED',
      address: 'member.alice@acme.test',
    });
    const bob = json.changes.find((c) => c.address === 'member.bob@acme.test.allocation');
    expect(bob?.changedBy).toEqual({ source: 'unknown' });

    const human = await plan(cwd, [], env);
    expect(human.stdout).toMatch(
      /used 4000 this cycle; after the change 1000 over the new budget 3000: blocked/,
    );
    expect(human.stdout).toMatch(/no audit row: changed by SQL or another tool/);
    const md = (await plan(cwd, ['--markdown'], env)).stdout;
    expect(md.indexOf('ALLOCATION_BELOW_USED')).toBeLessThan(md.indexOf('| create |'));

    const strict = await plan(cwd, ['--fail-on-warning'], env);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/ALLOCATION_BELOW_USED/);
    // A harmless change has no warning (the SQL drift set back, alice raised): exit 0.
    writeFileSync(
      join(cwd, 'credits.yaml'),
      config('6000').replace('bob@acme.test: 1000', 'bob@acme.test: 1200'),
    );
    const fine = await plan(cwd, ['--fail-on-warning', '--json'], env);
    expect(fine.code, fine.stderr).toBe(0);
  }, 180_000);
});
