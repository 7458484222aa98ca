// The no-op shortcut (the file's digest equals the last applied one and nothing was written since) must never
// hide drift: an SQL write that lands between a plan and its apply is not part of that plan, so after the
// apply the live state is not the file's, and the next plan of the same file must show the write.
import { describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import type { Plan } from '../../src/plan/plan.js';
import type { Store } from '../../src/state/store.js';

const file = (allocation: number) => `version: 1
account:
  id: acme
  creditLimit: 1000
groups:
  eng:
    allocation: ${allocation}
    members:
      alice@acme.test: 10
  ops:
    allocation: 100
`;

const plan = (store: Store, text: string) => makePlan(store, { bytes: text, file: 'credits.yaml' });
const sqlWrite = (store: Store) =>
  store.query("UPDATE groups SET extra = 7 WHERE account_id = 'acme' AND group_key = 'ops'");

describe.each(storeKinds)('no-op shortcut on %s', (_kind, freshStore) => {
  it('an SQL write between a plan made in this process and its apply shows as drift in the next plan', async () => {
    const store = await freshStore();
    await applyPlan(store, await plan(store, file(200)), { actor: 't' });
    const next = await plan(store, file(300));
    await sqlWrite(store);
    await applyPlan(store, next, { actor: 't' });

    const again = await plan(store, file(300));
    expect(again.plan.changes.map((c) => c.address)).toContain('group.ops.extra');
    await applyPlan(store, again, { actor: 't' });
    expect((await plan(store, file(300))).plan.changes).toEqual([]);
    await store.close();
  });

  it('an SQL write between a saved plan and its apply makes the plan stale; the next plan shows it', async () => {
    const store = await freshStore();
    await applyPlan(store, await plan(store, file(200)), { actor: 't' });
    const saved = JSON.parse(JSON.stringify((await plan(store, file(300))).plan)) as Plan;
    await sqlWrite(store);
    await expect(applyPlan(store, { plan: saved }, { actor: 't' })).rejects.toMatchObject({
      code: 'PLAN_STALE',
    });

    const again = await plan(store, file(300));
    expect(again.plan.changes.map((c) => c.address)).toEqual(['group.eng.allocation', 'group.ops.extra']);
    await applyPlan(store, again, { actor: 't' });
    expect((await plan(store, file(300))).plan.changes).toEqual([]);
    await store.close();
  });

  it('a saved plan applied with nothing written meanwhile keeps the shortcut', async () => {
    const store = await freshStore();
    await applyPlan(store, await plan(store, file(200)), { actor: 't' });
    const saved = JSON.parse(JSON.stringify((await plan(store, file(300))).plan)) as Plan;
    await applyPlan(store, { plan: saved }, { actor: 't' });
    const { rows } = await store.query<{ d: string | null }>(
      "SELECT applied_config_digest AS d FROM accounts WHERE account_id = 'acme'",
    );
    expect(rows[0]!.d).toBe(saved.configDigest);
    expect((await plan(store, file(300))).plan.changes).toEqual([]);
    await store.close();
  });
});

describe.each(storeKinds)('a saved plan and the file it carries on %s', (_kind, freshStore) => {
  const keptText = async (store: Store) =>
    (await store.query("SELECT 1 FROM applied_files WHERE account_id = 'acme'")).rowCount === 1;
  const edited = file(300).replace('alice@acme.test: 10', 'alice@acme.test: 20');

  it('apply plan.json keeps the text it carries: the next edit plans on the edited-file path', async () => {
    const store = await freshStore();
    await applyPlan(store, await plan(store, file(200)), { actor: 't' });
    const saved = JSON.parse(JSON.stringify((await plan(store, file(300))).plan)) as Plan;
    expect(saved.config).toBe(file(300));
    await applyPlan(store, { plan: saved }, { actor: 't' });
    expect(await keptText(store)).toBe(true);
    const next = await plan(store, edited);
    expect(next.source.path).toBe('edit');
    expect(next.plan.changes.map((c) => c.address)).toEqual(['member.alice@acme.test.allocation']);
    // Either path plans what a full parse plans.
    expect(next.plan.changes).toEqual(
      (await makePlan(store, { bytes: edited, file: 'credits.yaml', reuseApplied: false })).plan.changes,
    );
    await store.close();
  });
});

describe.each(storeKinds)('time zone spelling on %s', (_kind, freshStore) => {
  it('a zone stored in another case (before it was normalised) plans as no change', async () => {
    const store = await freshStore();
    const zoned = (tz: string) =>
      file(200).replace('  creditLimit: 1000\n', `  creditLimit: 1000\n  cycle:\n    timezone: ${tz}\n`);
    await applyPlan(store, await plan(store, zoned('Europe/Berlin')), { actor: 't' });
    await store.query(
      `UPDATE accounts SET timezone = 'europe/berlin', applied = jsonb_set(applied, '{timezone}', '"europe/berlin"')
        WHERE account_id = 'acme'`,
    );
    expect((await plan(store, zoned('europe/berlin'))).plan.changes).toEqual([]);
    expect((await plan(store, zoned('Europe/Berlin') + '# full path\n')).plan.changes).toEqual([]);
    await store.close();
  });
});
