// `credits plan --replay` as a user runs it (CLI child process), on PostgreSQL and on the embedded database:
// the previous cycle's recorded usage replayed against a file that cuts a budget.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliStoreTargets, runCli, type CliEnv } from '../support/cli-on-stores.js';
import { migrate } from '../../src/state/migrate.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { recordUsage } from '../../src/ledger/usage.js';
import { resetCycle } from '../../src/ledger/reset-cycle.js';
import type { Store } from '../../src/state/store.js';

const config = (alice: string) => `version: 1
account:
  id: acme
  creditLimit: 1000
  creditFactor: 1
  signupCredits: 0
groups:
  eng:
    allocation: 500
    members:
      alice@acme.test: ${alice}
      bob@acme.test: 100
  default:
    allocation: 100
`;

/** Cycle 1 with alice's usage spread over three hours, then a reset: cycle 1 is the previous complete one. */
async function lastCycleOfUsage(store: Store): Promise<void> {
  await migrate(store);
  await applyPlan(store, await makePlan(store, { bytes: config('300'), file: 'c.yaml' }), { actor: 't' });
  for (const credits of ['150', '60', '40']) {
    await recordUsage(store, { accountId: 'acme', member: 'alice@acme.test', credits });
  }
  await recordUsage(store, { accountId: 'acme', member: 'bob@acme.test', credits: '10' });
  await store.query(
    `UPDATE ledger_entries SET created_at = date_trunc('hour', now()) - interval '3 hours' +
       (CASE credits WHEN 150 THEN 0 WHEN 60 THEN 1 ELSE 2 END) * interval '1 hour' + interval '5 minutes'`,
  );
  await store.query(`UPDATE cycles SET starts_at = date_trunc('hour', now()) - interval '3 hours'`);
  await resetCycle(store, { accountId: 'acme' });
}

const plan = (cwd: string, args: string[], env: CliEnv) => runCli(cwd, ['plan', ...args], env);
const targets = cliStoreTargets(lastCycleOfUsage);

describe.each(targets)('credits plan --replay on %s', (_kind, prepare) => {
  it('shows who the cut would have blocked last cycle, from when, and how much it would have refused', async () => {
    const env = await prepare();
    const cwd = mkdtempSync(join(tmpdir(), 'credits-replay-cli-'));
    writeFileSync(join(cwd, 'credits.yaml'), config('200'));

    const human = await plan(cwd, ['--replay'], env);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/~ member\.alice@acme\.test\.allocation|alice@acme\.test/);
    expect(human.stdout).toMatch(
      /Replay of cycle 1 .*: 50 of its 260 credits would have been refused; 1 member blocked/,
    );
    expect(human.stdout).toMatch(
      /alice@acme\.test: blocked by member from \d{4}-\d\d-\d\d \d\d:00 UTC, refused 50 \(used 250 of 300 in that cycle; proposed 200\)/,
    );

    const md = await plan(cwd, ['--replay', '--markdown'], env);
    expect(md.stdout).toMatch(/#### Replay of the last cycle/);
    expect(md.stdout).toMatch(/\| alice@acme\.test \| member \| .* \| 50 \| 250 \| 300 \| 200 \|/);

    const json = JSON.parse((await plan(cwd, ['--replay', '--json'], env)).stdout) as {
      replay: { refused: string; members: { scope: string; blockedFrom: string }[] };
    };
    expect(json.replay.refused).toBe('50');
    expect(json.replay.members.map((m) => m.scope)).toEqual(['member:alice@acme.test']);
    // The hour alice's second event passed 200: two hours after the first.
    const first = new Date(json.replay.members[0]!.blockedFrom).getTime();
    expect(first % 3_600_000).toBe(0);

    writeFileSync(join(cwd, 'credits.yaml'), config('300'));
    expect((await plan(cwd, ['--replay'], env)).stdout).toMatch(
      /its 260 credits of usage all fit the proposed budgets/,
    );
  }, 180_000);
});
