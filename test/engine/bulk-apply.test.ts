// The bulk writes of an apply (Store.copyRows where the driver has it): a first apply into an account with no
// member rows COPYs straight into members; otherwise the rows are staged and merged. Both stores.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { freshPgliteStore, storeKinds } from '../support/databases.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { ANALYZE_AFTER_CHANGES, applyPlan } from '../../src/apply/apply-plan.js';
import type { Store } from '../../src/state/store.js';

const company = readFileSync('examples/company.yaml', 'utf8').replace(
  '      nora.berg@northwind.example: {}\n',
  '      nora.berg@northwind.example: {}\n      "zoe.o\'brien+ops/{x}|~%@northwind.example": { allocation: 12.345678, extra: 0.5 }\n',
);
// The same account and groups, no members at all.
const noMembers = company.replace(/^ {4}members:\n(?: {6}.*\n)+/gm, '');
const plan = (store: Store, text: string) => makePlan(store, { bytes: text, file: 'credits.yaml' });

interface MemberRow {
  email: string;
  group_key: string;
  allocation: string | null;
  extra: string;
  declared: boolean;
  applied_group: string | null;
  applied_allocation: string | null;
  applied_extra: string | null;
}
const members = async (store: Store) =>
  (
    await store.query<MemberRow>(
      `SELECT email, group_key, trim_scale(allocation)::text AS allocation, trim_scale(extra)::text AS extra,
              declared, applied_group, trim_scale(applied_allocation)::text AS applied_allocation,
              trim_scale(applied_extra)::text AS applied_extra
         FROM members WHERE account_id = 'northwind' ORDER BY email`,
    )
  ).rows;

/** The same store, but its transactions offer only `query` (copyRows is an optional capability). */
const withoutCopy = (store: Store): Store => ({
  kind: store.kind,
  query: (sql, params) => store.query(sql, params),
  exec: (sql) => store.exec(sql),
  close: () => store.close(),
  transaction: (fn) => store.transaction((tx) => fn({ query: (sql, params) => tx.query(sql, params) })),
});

describe.each(storeKinds)('bulk apply on %s', (_kind, freshStore) => {
  it.each([
    ['with copyRows', (s: Store) => s],
    ['without copyRows', withoutCopy],
  ])(
    'a first apply writes every member as planned and one exact audit row per change (%s)',
    async (_how, wrap) => {
      const store = wrap(await freshStore());
      const p = await plan(store, company);
      await applyPlan(store, p, { actor: 'ci@example.com', commitSha: 'c0ffee', source: 'apply' });
      const creates = p.plan.changes.filter((c) => c.address.startsWith('member.'));
      expect(creates).toHaveLength(15);
      const rows = await members(store);
      expect(rows).toHaveLength(15);
      const zoe = rows.find((r) => r.email === "zoe.o'brien+ops/{x}|~%@northwind.example");
      expect(zoe).toEqual({
        email: "zoe.o'brien+ops/{x}|~%@northwind.example",
        group_key: 'marketing',
        allocation: '12.345678',
        extra: '0.5',
        declared: true,
        applied_group: 'marketing',
        applied_allocation: '12.345678',
        applied_extra: '0.5',
      });
      const emil = rows.find((r) => r.email === 'emil.novak@northwind.example');
      expect(emil).toMatchObject({
        group_key: 'engineering',
        allocation: null,
        extra: '0',
        applied_extra: '0',
      });
      for (const r of rows) {
        expect([r.applied_group, r.applied_allocation, r.applied_extra]).toEqual([
          r.group_key,
          r.allocation,
          r.extra,
        ]);
      }

      const audit = await store.query<Record<string, unknown>>(
        `SELECT state_serial, actor, source, commit_sha, address, action, before_value, after_value
         FROM audit_log WHERE account_id = 'northwind' ORDER BY audit_id`,
      );
      expect(audit.rows).toEqual(
        p.plan.changes.map((c) => ({
          state_serial: '1',
          actor: 'ci@example.com',
          source: 'apply',
          commit_sha: 'c0ffee',
          address: c.address,
          action: c.action,
          before_value: c.before ?? null,
          after_value: c.after ?? null,
        })),
      );
      expect((await plan(store, company)).plan.changes).toEqual([]);
      expect((await plan(store, company + '# full path\n')).plan.changes).toEqual([]);
    },
  );

  it.each([
    ['with copyRows', (s: Store) => s],
    ['without copyRows', withoutCopy],
  ])(
    'a signup already in an account without declared members is taken over by the file (%s)',
    async (_how, wrap) => {
      const store = wrap(await freshStore());
      await applyPlan(store, await plan(store, noMembers), { actor: 'ci' });
      expect(await members(store)).toEqual([]);
      await store.query(
        `INSERT INTO members (account_id, email, group_key, extra, declared, signed_up_at)
       VALUES ('northwind', 'alice.schmidt@northwind.example', 'default', 0, false, now())`,
      );
      const p = await plan(store, company);
      await applyPlan(store, p, { actor: 'ci' });
      const rows = await members(store);
      expect(rows).toHaveLength(15);
      expect(rows.find((r) => r.email === 'alice.schmidt@northwind.example')).toMatchObject({
        group_key: 'engineering',
        allocation: '8000',
        declared: true,
        applied_group: 'engineering',
        applied_allocation: '8000',
      });
      const signedUp = await store.query(
        "SELECT 1 FROM members WHERE account_id = 'northwind' AND signed_up_at IS NOT NULL",
      );
      expect(signedUp.rowCount).toBe(1);
      expect((await plan(store, company + '# full path\n')).plan.changes).toEqual([]);
    },
  );

  it('a later apply merges: updates, moves, removals and new members in one go', async () => {
    const store = await freshStore();
    await applyPlan(store, await plan(store, company), { actor: 'ci' });
    const edited = company
      .replace('alice.schmidt@northwind.example: 8000', 'alice.schmidt@northwind.example: 9000')
      .replace('      nora.berg@northwind.example: {}\n', '')
      .replace(
        '      greta.lund@northwind.example: 20000\n',
        '      greta.lund@northwind.example: 20000\n      nora.berg@northwind.example: 1\n      new.person@northwind.example: {}\n',
      )
      .replace('      karim.benali@northwind.example: {}\n', '');
    await applyPlan(store, await plan(store, edited), { actor: 'ci' });
    const rows = await members(store);
    expect(rows).toHaveLength(16);
    const by = new Map(rows.map((r) => [r.email, r]));
    expect(by.get('alice.schmidt@northwind.example')).toMatchObject({
      allocation: '9000',
      applied_allocation: '9000',
    });
    expect(by.get('nora.berg@northwind.example')).toMatchObject({
      group_key: 'data-science',
      allocation: '1',
    });
    expect(by.get('new.person@northwind.example')).toMatchObject({
      group_key: 'data-science',
      declared: true,
    });
    expect(by.get('karim.benali@northwind.example')).toMatchObject({
      group_key: 'default',
      declared: false,
      applied_group: null,
    });
    expect((await plan(store, edited + '# full path\n')).plan.changes).toEqual([]);
  });
});

describe('statistics after a large apply on PGlite (no autovacuum there)', () => {
  const file = (n: number) =>
    `version: 1\naccount:\n  id: stats\n  creditLimit: 1000000\ngroups:\n  default:\n    allocation: 1000\n    members:\n` +
    Array.from({ length: n }, (_, i) => `      m${i}@stats.test: {}\n`).join('');
  const reltuples = async (store: Store) =>
    Number(
      (
        await store.query<{ n: string }>(
          "SELECT reltuples::text AS n FROM pg_class WHERE relname = 'members'",
        )
      ).rows[0]!.n,
    );

  it('an apply of many changes analyzes, so plans see the rows; a small one leaves statistics alone', async () => {
    const store = await freshPgliteStore();
    await applyPlan(store, await plan(store, file(ANALYZE_AFTER_CHANGES - 10)), { actor: 't' });
    expect(await reltuples(store)).toBeLessThan(1); // never analyzed: -1 (or 0)
    await applyPlan(store, await plan(store, file(2 * ANALYZE_AFTER_CHANGES)), { actor: 't' });
    expect(await reltuples(store)).toBe(2 * ANALYZE_AFTER_CHANGES);
  });
});
