// Alerts through plan/apply/export on both stores: plans show alert changes at typed addresses, apply writes
// them, export writes them back (export then plan is empty), and no plan shows a secret's value.
import { describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { inspect } from '../../src/state/inspect.js';
import { renderYaml } from '../../src/render/yaml-export.js';
import { renderHuman } from '../../src/render/human.js';
import { renderMarkdown } from '../../src/render/markdown.js';
import type { Store } from '../../src/state/store.js';

const base = `version: 1
account:
  id: acme
  creditLimit: 1000
groups:
  eng:
    allocation: 500
    members:
      a@acme.com: 100
`;
const alerts = `alerts:
  thresholds: [80, 50, 100]
  webhooks:
    - url: https://hooks.example.com/credits
      secretEnv: CREDITS_WEBHOOK_SECRET
    - url: http://127.0.0.1:9/ops
      secretEnv: OPS_SECRET
      scopes: [account]
`;
const SECRET = 'whsec-never-shown-4711';

const made = (store: Store, text: string) => makePlan(store, { bytes: text, file: 'credits.yaml' });
const plan = async (store: Store, text: string) => (await made(store, text)).plan;
const apply = async (store: Store, text: string) =>
  applyPlan(store, await made(store, text), { actor: 'test' });
const lines = (p: Awaited<ReturnType<typeof plan>>) =>
  p.changes.map((c) => `${c.action} ${c.address} ${JSON.stringify(c.after ?? c.before)}`);

describe.each(storeKinds)('alerts in plan/apply/export on %s', (_kind, freshStore) => {
  it('plans, applies, updates and removes alerts, and export round-trips them', async () => {
    process.env.CREDITS_WEBHOOK_SECRET = SECRET;
    const store = await freshStore();
    await apply(store, base);
    const add = await plan(store, base + alerts);
    expect(lines(add)).toEqual([
      'create alerts.threshold.50 "50"',
      'create alerts.threshold.80 "80"',
      'create alerts.threshold.100 "100"',
      'create alerts.webhook.http://127.0.0.1:9/ops {"url":"http://127.0.0.1:9/ops","secretEnv":"OPS_SECRET","scopes":"account"}',
      'create alerts.webhook.https://hooks.example.com/credits {"url":"https://hooks.example.com/credits","secretEnv":"CREDITS_WEBHOOK_SECRET","scopes":"member,group,account"}',
    ]);
    const human = renderHuman(add, { colour: false });
    expect(human).toContain('+ alerts.threshold.80 (80)');
    expect(renderMarkdown(add)).toContain('<summary>Alerts: 5 changes</summary>');
    for (const text of [human, renderMarkdown(add), JSON.stringify(add)]) expect(text).not.toContain(SECRET);
    await applyPlan(store, { plan: add }, { actor: 'test' });
    expect((await plan(store, base + alerts)).changes).toEqual([]);

    // Export writes them back; planning the export is empty.
    const live = await inspect(store, 'acme');
    const exported = renderYaml(live.state!);
    expect(exported).toContain('alerts:\n  thresholds: [50, 80, 100]\n  webhooks:\n');
    expect(exported).toContain('      scopes: [account]\n');
    expect((await plan(store, exported)).changes).toEqual([]);

    // One threshold dropped, one added, a webhook's scopes and variable changed, the other removed.
    const edited = `${base}alerts:
  thresholds: [50, 90, 100]
  webhooks:
    - url: https://hooks.example.com/credits
      secretEnv: OTHER_SECRET
      scopes: [group, member]
`;
    const change = await plan(store, edited);
    expect(lines(change)).toEqual([
      'create alerts.threshold.90 "90"',
      'delete alerts.threshold.80 "80"',
      'update alerts.webhook.https://hooks.example.com/credits.secretEnv "OTHER_SECRET"',
      'update alerts.webhook.https://hooks.example.com/credits.scopes "member,group"',
      'delete alerts.webhook.http://127.0.0.1:9/ops {"url":"http://127.0.0.1:9/ops","secretEnv":"OPS_SECRET","scopes":"account"}',
    ]);
    await applyPlan(store, { plan: change }, { actor: 'test' });
    expect((await plan(store, edited)).changes).toEqual([]);
    expect((await plan(store, renderYaml((await inspect(store, 'acme')).state!))).changes).toEqual([]);

    // Removing the block removes everything.
    const removed = await plan(store, base);
    expect(removed.changes.map((c) => c.action)).toEqual(['delete', 'delete', 'delete', 'delete']);
    await applyPlan(store, { plan: removed }, { actor: 'test' });
    expect((await plan(store, base)).changes).toEqual([]);
    expect(renderYaml((await inspect(store, 'acme')).state!)).not.toContain('alerts');
  });

  it('creates the alerts of a new account with it', async () => {
    const store = await freshStore();
    await apply(store, base + alerts);
    expect((await plan(store, base + alerts)).changes).toEqual([]);
  });
});
