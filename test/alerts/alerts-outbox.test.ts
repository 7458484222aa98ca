// The alert outbox on both stores: the counter trigger writes an event (and a delivery per webhook of its
// scope) in the usage's own transaction, once per scope, threshold and cycle; a refused charge writes none;
// claims never hand one delivery to two senders; failures are retried later or given up.
import { describe, expect, it } from 'vitest';
import { pgWithConfig, storeKinds } from '../support/databases.js';
import { createPgStore } from '../../src/state/pg-store.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { recordUsage } from '../../src/ledger/usage.js';
import { resetCycle } from '../../src/ledger/reset-cycle.js';
import { release, reserve } from '../../src/ledger/reservations.js';
import {
  claimDueDeliveries,
  listAlerts,
  recordDelivered,
  recordFailure,
  sweepAlerts,
} from '../../src/ledger/alerts-outbox.js';
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
      b@acme.com: {}
alerts:
  thresholds: [50, 100]
  webhooks:
    - url: https://all.example/hook
      secretEnv: ALL_SECRET
    - url: https://groups.example/hook
      secretEnv: GROUP_SECRET
      scopes: [group]
`;

const events = async (store: Store) =>
  (
    await store.query<{ scope: string; threshold: string; used: string; budget: string; cycle_no: string }>(
      `SELECT scope, trim_scale(threshold)::text AS threshold, trim_scale(used)::text AS used,
              trim_scale(budget)::text AS budget, cycle_no::text FROM alert_events ORDER BY cycle_no, scope, threshold`,
    )
  ).rows.map((r) => `${r.cycle_no} ${r.scope} ${r.threshold}% ${r.used}/${r.budget}`);

describe.each(storeKinds)('alert outbox on %s', (_kind, freshStore) => {
  it('raises each threshold once per cycle, in the usage transaction, with a delivery per matching webhook', async () => {
    const store = await freshStore();
    await applyPlan(store, await makePlan(store, { bytes: config, file: 'credits.yaml' }), { actor: 'test' });
    const use = (member: string, credits: string) =>
      recordUsage(store, { accountId: 'acme', member, credits });
    await use('a@acme.com', '49');
    expect(await events(store)).toEqual([]);
    await use('a@acme.com', '1');
    await use('a@acme.com', '10');
    await use('b@acme.com', '200');
    const first = await events(store);
    expect(first.map((e) => e.replace(/^\d+ /, ''))).toEqual([
      'group:eng 50% 260/500',
      'member:a@acme.com 50% 50/100',
    ]);
    // A refused charge rolls back with its alert: a stays at 60, no 100 % alert.
    await expect(use('a@acme.com', '41')).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect(await events(store)).toEqual(first);
    await use('a@acme.com', '40');
    expect(await events(store)).toHaveLength(3);
    // The member alert goes to the all-scopes webhook only; the group alert to both.
    const alerts = await listAlerts(store, 'acme', 10);
    expect(
      alerts.map((a) => `${a.scope}:${a.threshold}:${a.deliveries.map((d) => d.url).join(' ')}`).sort(),
    ).toEqual([
      'group:50:https://all.example/hook https://groups.example/hook',
      'member:100:https://all.example/hook',
      'member:50:https://all.example/hook',
    ]);
    expect(alerts.find((a) => a.scope === 'member' && a.threshold === 100)).toMatchObject({
      member: 'a@acme.com',
      group: 'eng',
      used: '100',
      budget: '100',
    });
    expect(await sweepAlerts(store)).toBe(0);

    // A new cycle alerts again.
    await resetCycle(store, { accountId: 'acme' });
    await use('a@acme.com', '70');
    const after = await events(store);
    expect(after).toHaveLength(4);
    expect(after[3]).toMatch(/^\d+ member:a@acme\.com 50% 70\/100$/);
    expect(after[3]!.split(' ')[0]).not.toBe(after[0]!.split(' ')[0]);
  });

  it('the sweep raises a sliced budget reached without a trigger seeing it', async () => {
    const store = await freshStore();
    await applyPlan(store, await makePlan(store, { bytes: config, file: 'credits.yaml' }), { actor: 'test' });
    await recordUsage(store, { accountId: 'acme', member: 'b@acme.com', credits: '1' });
    // As if two concurrent writers each saw only their own slice: counters moved with the trigger off.
    await store.query('ALTER TABLE budget_counters DISABLE TRIGGER budget_counters_alerts');
    await store.query(
      `UPDATE budget_counters SET used = used + 1 WHERE account_id = 'acme' AND scope = 'group:eng' AND slice < 10`,
    );
    await store.query(
      `UPDATE budget_counters SET used = capacity WHERE account_id = 'acme' AND scope = 'group:eng' AND slice >= 8`,
    );
    await store.query('ALTER TABLE budget_counters ENABLE TRIGGER budget_counters_alerts');
    expect(await events(store)).toEqual([]);
    expect(await sweepAlerts(store)).toBe(1);
    expect(await sweepAlerts(store)).toBe(0);
    expect((await events(store)).map((e) => e.split(' ').slice(1, 3).join(' '))).toEqual(['group:eng 50%']);
  });

  it('thresholds declared while a member is already past them: the sweep raises them once, without more usage', async () => {
    const store = await freshStore();
    const noAlerts = config.replace(/alerts:[\s\S]*$/, '');
    await applyPlan(store, await makePlan(store, { bytes: noAlerts, file: 'credits.yaml' }), {
      actor: 'test',
    });
    await recordUsage(store, { accountId: 'acme', member: 'a@acme.com', credits: '60' });
    await applyPlan(store, await makePlan(store, { bytes: config, file: 'credits.yaml' }), { actor: 'test' });
    expect(await events(store)).toEqual([]);
    // a: 60/100; group 60/500 and account 60/1000 are below 50 %.
    expect(await sweepAlerts(store)).toBe(1);
    expect(await sweepAlerts(store)).toBe(0);
    expect((await events(store)).map((e) => e.replace(/^\d+ /, ''))).toEqual([
      'member:a@acme.com 50% 60/100',
    ]);
  });

  it('a sliced crossing missed just before a cycle ended is still raised by the next sweep', async () => {
    const store = await freshStore();
    await applyPlan(store, await makePlan(store, { bytes: config, file: 'credits.yaml' }), { actor: 'test' });
    await recordUsage(store, { accountId: 'acme', member: 'b@acme.com', credits: '1' });
    // As if concurrent writers each saw only their own slice, then the cycle ended.
    await store.query('ALTER TABLE budget_counters DISABLE TRIGGER budget_counters_alerts');
    await store.query(
      `UPDATE budget_counters SET used = capacity WHERE account_id = 'acme' AND scope = 'group:eng' AND slice >= 8`,
    );
    await store.query('ALTER TABLE budget_counters ENABLE TRIGGER budget_counters_alerts');
    await resetCycle(store, { accountId: 'acme' });
    await recordUsage(store, { accountId: 'acme', member: 'b@acme.com', credits: '1' });
    expect(await events(store)).toEqual([]);
    expect(await sweepAlerts(store)).toBe(1);
    expect((await events(store)).map((e) => e.split(' ').slice(1, 3).join(' '))).toEqual(['group:eng 50%']);
    // Long ended cycles are left alone.
    expect(await sweepAlerts(store, 0)).toBe(0);
  });

  it('a hold that reaches a threshold raises it; its release does not take it back nor let it alert twice', async () => {
    const store = await freshStore();
    await applyPlan(store, await makePlan(store, { bytes: config, file: 'credits.yaml' }), { actor: 'test' });
    const hold = await reserve(store, { accountId: 'acme', member: 'a@acme.com', credits: '55' });
    expect((await events(store)).map((e) => e.replace(/^\d+ /, ''))).toEqual([
      'member:a@acme.com 50% 55/100',
    ]);
    await release(store, { accountId: 'acme', id: hold.id });
    await recordUsage(store, { accountId: 'acme', member: 'a@acme.com', credits: '60' });
    expect(await sweepAlerts(store)).toBe(0);
    expect((await events(store)).map((e) => e.replace(/^\d+ /, ''))).toEqual([
      'member:a@acme.com 50% 55/100',
    ]);
  });

  it('hands each due delivery to one claimant, retries failures later and gives up when told', async () => {
    const store = await freshStore();
    await applyPlan(store, await makePlan(store, { bytes: config, file: 'credits.yaml' }), { actor: 'test' });
    await recordUsage(store, { accountId: 'acme', member: 'b@acme.com', credits: '300' });
    // group 50 % → two deliveries.
    const [x, y] = await Promise.all([
      claimDueDeliveries(store, 1, 60_000),
      claimDueDeliveries(store, 5, 60_000),
    ]);
    const ids = [...x!, ...y!].map((d) => d.deliveryId);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
    expect(await claimDueDeliveries(store, 5, 60_000)).toEqual([]); // leased
    const [one, two] = [...x!, ...y!];
    expect(one!.attempt).toBe(1);
    expect(one!.event.id).toBe(two!.event.id);
    await recordDelivered(store, one!, 204);
    await recordFailure(store, two!, { status: 503, error: 'HTTP 503', retryInMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    const again = await claimDueDeliveries(store, 5, 60_000);
    expect(again.map((d) => [d.deliveryId, d.attempt, d.event.id])).toEqual([
      [two!.deliveryId, 2, two!.event.id],
    ]);
    await recordFailure(store, again[0]!, {
      status: null,
      error: 'request failed: ECONNREFUSED',
      retryInMs: null,
    });
    const [alert] = await listAlerts(store, 'acme', 5);
    expect(alert!.deliveries.map((d) => [d.status, d.attempts, d.lastStatus, d.lastError])).toEqual([
      ['delivered', 1, 204, null],
      ['failed', 2, null, 'request failed: ECONNREFUSED'],
    ]);
    expect(await claimDueDeliveries(store, 5, 0)).toEqual([]);
  });
});

describe('alert outbox claims on PostgreSQL, two connections', () => {
  it('a claim skips deliveries another sender holds, at once, instead of waiting for them', async () => {
    const { url, store } = await pgWithConfig(config);
    await recordUsage(store, { accountId: 'acme', member: 'b@acme.com', credits: '300' }); // 2 deliveries
    const other = createPgStore(url, { applicationName: 'credits-test' });
    try {
      let skipped: unknown[] | 'waited' = 'waited';
      await store.transaction(async (tx) => {
        // Another sender holds both rows, mid-claim.
        await tx.query('SELECT 1 FROM alert_deliveries FOR UPDATE');
        const claim = claimDueDeliveries(other, 5, 60_000);
        const waited = new Promise<'waited'>((done) => setTimeout(() => done('waited'), 1500));
        skipped = await Promise.race([claim, waited]);
        if (skipped === 'waited') await tx.query('SELECT 1'); // released at commit; the claim then ends
      });
      expect(skipped).toEqual([]);
      // Released: now one claim takes both, once.
      expect(await claimDueDeliveries(other, 5, 60_000)).toHaveLength(2);
      expect(await claimDueDeliveries(store, 5, 60_000)).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
