// Spend-aware plans as a user runs them (the CLI as a child process), on PostgreSQL and the embedded database:
// a cut below what a member used this cycle shows used and remaining, warns ALLOCATION_BELOW_USED,
// --fail-on-warning exits 1; a value changed by SQL names no one (no audit row).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliStoreTargets, runCli, type CliEnv } from '../support/cli-on-stores.js';
import { migrate } from '../../src/state/migrate.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
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

const plan = (cwd: string, args: string[], env: CliEnv) => runCli(cwd, ['plan', ...args], env);
const targets = cliStoreTargets(prepare);

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
