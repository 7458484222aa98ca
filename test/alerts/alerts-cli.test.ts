// `credits alerts` on both stores: the latest alerts with each delivery's status, attempts and last error.
import { describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { cliStoreTargets, runCli } from '../support/cli-on-stores.js';
import { migrate } from '../../src/state/migrate.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { recordUsage } from '../../src/ledger/usage.js';
import { claimDueDeliveries, recordDelivered, recordFailure } from '../../src/ledger/alerts-outbox.js';
import type { Store } from '../../src/state/store.js';

const config = `version: 1
account:
  id: acme
  creditLimit: 1000
  creditFactor: 1
groups:
  eng:
    allocation: 500
    members:
      a@acme.com: 100
alerts:
  thresholds: [50, 80]
  webhooks:
    - url: https://hooks.example.com/credits?token=abc
      secretEnv: HOOK_SECRET
      scopes: [member]
`;

async function prepare(store: Store): Promise<void> {
  await migrate(store);
  await applyPlan(store, await makePlan(store, { bytes: config, file: 'credits.yaml' }), { actor: 'test' });
  await recordUsage(store, { accountId: 'acme', member: 'a@acme.com', credits: '55' });
  const [first] = await claimDueDeliveries(store, 5, 60_000);
  await recordDelivered(store, first!, 204);
  await recordUsage(store, { accountId: 'acme', member: 'a@acme.com', credits: '30' });
  const [second] = await claimDueDeliveries(store, 5, 60_000);
  await recordFailure(store, second!, { status: 503, error: 'HTTP 503', retryInMs: 60_000 });
}

describe.each(cliStoreTargets(prepare))('credits alerts on %s', (_kind, target) => {
  it('lists deliveries and failures, newest first, as a table and as JSON', async () => {
    const env = await target();
    const table = await runCli(tmpdir(), ['alerts'], env);
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(/^RAISED +SCOPE +THRESHOLD +USED\/BUDGET +WEBHOOK +STATUS +ATTEMPTS +LAST$/);
    // The url's query (it may carry a token) is not shown.
    expect(lines[1]).toMatch(
      /member a@acme\.com +80% +85\/100 +https:\/\/hooks\.example\.com\/credits\?… +pending +1 +HTTP 503; next /,
    );
    expect(lines[2]).toMatch(
      /member a@acme\.com +50% +55\/100 +https:\/\/hooks\.example\.com\/credits\?… +delivered +1 +HTTP 204 at /,
    );
    expect(table.stdout).toContain('2 alerts; deliveries: 1 delivered, 1 pending, 0 failed');
    expect(table.stdout).not.toContain('token=abc');

    const json = await runCli(tmpdir(), ['alerts', '--format', 'json', '--limit', '1'], env);
    const alerts = JSON.parse(json.stdout) as { threshold: number; deliveries: { status: string }[] }[];
    expect(alerts.map((a) => [a.threshold, a.deliveries[0]!.status])).toEqual([[80, 'pending']]);

    const bad = await runCli(tmpdir(), ['alerts', '--format', 'csv'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('VALIDATION_FAILED');
  }, 60_000);
});
