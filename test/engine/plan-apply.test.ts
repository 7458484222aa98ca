// Plan/apply against both stores: round trips, drift, export, stale plans, invalid input changes nothing.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { storeKinds } from '../support/databases.js';
import { makePlan, ConfigInvalid } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { inspect } from '../../src/state/inspect.js';
import { renderYaml } from '../../src/render/yaml-export.js';
import { CreditsError } from '../../src/errors.js';
import type { Store } from '../../src/state/store.js';

const company = readFileSync('examples/company.yaml', 'utf8');
const plan = (store: Store, text: string, extra: { allowDestroy?: boolean } = {}) =>
  makePlan(store, { bytes: text, file: 'credits.yaml', ...extra });
const apply = async (store: Store, text: string, extra: { allowDestroy?: boolean } = {}) =>
  applyPlan(store, await plan(store, text, extra), { actor: 'test@example.com', commitSha: 'abc123' });

async function counts(store: Store, account: string) {
  const one = async (sql: string) => Number((await store.query<{ n: string }>(sql, [account])).rows[0]!.n);
  return {
    accounts: await one('SELECT count(*) AS n FROM accounts WHERE account_id = $1'),
    groups: await one('SELECT count(*) AS n FROM groups WHERE account_id = $1'),
    members: await one('SELECT count(*) AS n FROM members WHERE account_id = $1'),
    audit: await one('SELECT count(*) AS n FROM audit_log WHERE account_id = $1'),
    serial: await one('SELECT coalesce(max(state_serial), 0) AS n FROM accounts WHERE account_id = $1'),
  };
}

describe.each(storeKinds)('plan/apply on %s', (_kind, freshStore) => {
  it('creates an account from scratch, then plans no changes (fast path and full parse)', async () => {
    const store = await freshStore();
    const first = await plan(store, company);
    expect(first.plan.stateSerial).toBe(0);
    expect(first.plan.summary.create).toBe(1 + 5 + 14);
    const result = await applyPlan(store, first, { actor: 'ci' });
    expect(result.stateSerial).toBe(1);
    expect((await plan(store, company)).plan.changes).toEqual([]);
    // A comment changes the digest, so this goes through parse + inspect + diff.
    const full = await plan(store, company + '# touched\n');
    expect(full.plan.changes).toEqual([]);
    expect(full.plan.stateSerial).toBe(1);
  });

  it('changing one allocation plans exactly one update and applies it with one audit row', async () => {
    const store = await freshStore();
    await apply(store, company);
    const before = await counts(store, 'northwind');
    const edited = company.replace(
      'alice.schmidt@northwind.example: 8000',
      'alice.schmidt@northwind.example: 9000',
    );
    const p = await plan(store, edited);
    expect(p.plan.changes).toEqual([
      {
        address: 'member.alice.schmidt@northwind.example.allocation',
        action: 'update',
        before: '8000',
        after: '9000',
        effects: [],
        group: 'engineering',
        // Nothing used yet this cycle: all of the new budget remains.
        spend: { used: '0', budget: '9000', remaining: '9000' },
      },
    ]);
    await applyPlan(store, p, { actor: 'ci' });
    const after = await counts(store, 'northwind');
    expect(after.audit).toBe(before.audit + 1);
    expect(after.serial).toBe(before.serial + 1);
    expect((await plan(store, edited)).plan.changes).toEqual([]);
  });

  it('shows a value changed outside credits.yaml as drift, and apply sets it back', async () => {
    const store = await freshStore();
    await apply(store, company);
    await store.query(
      "UPDATE groups SET allocation = 99999 WHERE account_id = 'northwind' AND group_key = 'support'",
    );
    const p = await plan(store, company);
    expect(p.plan.changes).toHaveLength(1);
    expect(p.plan.changes[0]).toMatchObject({
      address: 'group.support.allocation',
      action: 'update',
      before: '99999',
      after: '20000',
      drift: { applied: '20000' },
    });
    expect(p.plan.warnings.map((w) => w.message).join()).toMatch(/changed outside credits.yaml/);
    await applyPlan(store, p, { actor: 'ci' });
    expect((await plan(store, company)).plan.changes).toEqual([]);
  });

  it('keeps a drifted value when the file is updated to match it', async () => {
    const store = await freshStore();
    await apply(store, company);
    await store.query(
      "UPDATE members SET allocation = 7000 WHERE account_id = 'northwind' AND email = 'chen.li@northwind.example'",
    );
    const matching = company.replace('chen.li@northwind.example: 6000', 'chen.li@northwind.example: 7000');
    expect((await plan(store, matching)).plan.changes).toEqual([]);
  });

  it('returns a removed member to Default without an allocation and keeps their usage', async () => {
    const store = await freshStore();
    await apply(store, company);
    await store.query(
      `INSERT INTO ledger_entries (account_id, cycle_no, member_email, group_key, kind, credits)
       VALUES ('northwind', 1, 'greta.lund@northwind.example', 'data-science', 'usage', 12.5)`,
    );
    const without = company.replace(/^\s+greta\.lund@northwind\.example: 20000\n/m, '');
    const p = await plan(store, without);
    expect(p.plan.changes).toHaveLength(1);
    expect(p.plan.changes[0]).toMatchObject({
      address: 'member.greta.lund@northwind.example',
      action: 'delete',
    });
    expect(p.plan.changes[0]!.effects.join()).toMatch(/returns to Default/);
    await applyPlan(store, p, { actor: 'ci' });
    const row = await store.query<{ group_key: string; allocation: string | null; declared: boolean }>(
      "SELECT group_key, allocation, declared FROM members WHERE email = 'greta.lund@northwind.example'",
    );
    expect(row.rows[0]).toMatchObject({ group_key: 'default', allocation: null, declared: false });
    const usage = await store.query(
      "SELECT * FROM ledger_entries WHERE member_email = 'greta.lund@northwind.example'",
    );
    expect(usage.rowCount).toBe(1);
    expect((await plan(store, without)).plan.changes).toEqual([]);
  });

  it('moves a member between groups as a move', async () => {
    const store = await freshStore();
    await apply(store, company);
    const moved = company
      .replace(/^\s+nora\.berg@northwind\.example: \{\}\n/m, '')
      .replace(
        '      lena.fischer@northwind.example: {}\n',
        '      lena.fischer@northwind.example: {}\n      nora.berg@northwind.example: {}\n',
      );
    const p = await plan(store, moved);
    expect(p.plan.changes).toEqual([
      {
        address: 'member.nora.berg@northwind.example.group',
        action: 'move',
        before: 'marketing',
        after: 'support',
        effects: [],
      },
    ]);
    expect(p.plan.summary).toEqual({ create: 0, update: 0, delete: 0, move: 1 });
  });

  it('exports live state as a file that plans to no changes', async () => {
    const store = await freshStore();
    await apply(store, company);
    await store.query("UPDATE accounts SET credit_limit = 260000 WHERE account_id = 'northwind'");
    const live = await inspect(store, 'northwind');
    const exported = renderYaml(live.state!);
    expect((await plan(store, exported)).plan.changes).toEqual([]);
  });

  it('refuses to delete a protected group without allowDestroy', async () => {
    const store = await freshStore();
    await apply(store, company);
    const withoutEngineering = company.replace(/ {2}engineering:\n(?: {4}.*\n)+/, '');
    await expect(plan(store, withoutEngineering)).rejects.toMatchObject({ code: 'PROTECTED_GROUP' });
    const p = await plan(store, withoutEngineering, { allowDestroy: true });
    expect(p.plan.changes.find((c) => c.address === 'group.engineering')).toMatchObject({ action: 'delete' });
  });

  it('refuses the second of two plans made from the same serial as stale, naming both serials', async () => {
    const store = await freshStore();
    await apply(store, company);
    const a = await plan(store, company.replace('creditLimit: 250000', 'creditLimit: 260000'));
    const b = await plan(store, company.replace('creditLimit: 250000', 'creditLimit: 270000'));
    await applyPlan(store, a, { actor: 'ci' });
    const err = await applyPlan(store, b, { actor: 'ci' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CreditsError);
    expect(err).toMatchObject({ code: 'PLAN_STALE' });
    expect((err as Error).message).toMatch(/serial 1.*now at 2/);
  });

  it('two applies at once serialise: one lands, the other is refused as stale', async () => {
    const store = await freshStore();
    await apply(store, company);
    const a = await plan(store, company.replace('creditLimit: 250000', 'creditLimit: 260000'));
    const b = await plan(store, company.replace('creditLimit: 250000', 'creditLimit: 270000'));
    const results = await Promise.allSettled([
      applyPlan(store, a, { actor: 'a' }),
      applyPlan(store, b, { actor: 'b' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ code: 'PLAN_STALE' });
    const live = await inspect(store, 'northwind');
    expect(['260000', '270000']).toContain(live.state!.account.creditLimit);
    expect(live.stateSerial).toBe(2);
  });

  it('invalid input changes nothing: no row, no serial bump, no audit row', async () => {
    const store = await freshStore();
    await apply(store, company);
    const before = await counts(store, 'northwind');
    const dir = 'examples/invalid';
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      const bytes = readFileSync(join(dir, name));
      await expect(makePlan(store, { bytes, file: name })).rejects.toBeInstanceOf(ConfigInvalid);
    }
    expect(await counts(store, 'northwind')).toEqual(before);
  });
});
