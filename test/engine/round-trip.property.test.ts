// Property: for random valid configs A and B, apply(A); apply(B); then plan(B) is empty and live state equals B.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { storeKinds } from '../support/databases.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { inspect } from '../../src/state/inspect.js';
import { loadConfig } from '../../src/config/load-config.js';
import { renderYaml } from '../../src/render/yaml-export.js';
import { DEFAULT_GROUP, type DeclaredState } from '../../src/declared-state.js';

const amount = fc.oneof(
  fc.integer({ min: 0, max: 5000 }).map(String),
  fc
    .tuple(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 1, max: 999999 }))
    .map(([i, f]) => `${i}.${String(f).padStart(6, '0')}`.replace(/0+$/, '')),
);
const groupKeys = fc.uniqueArray(fc.constantFrom('eng', 'ops', 'sales', 'research', 'support', 'ml'), {
  maxLength: 4,
});
const emails = fc.uniqueArray(
  fc.constantFrom(...Array.from({ length: 12 }, (_, i) => `user${i}@acme.test`)),
  {
    maxLength: 10,
  },
);

/** A valid DeclaredState: budgets are derived from members' sums, so every semantic rule holds. */
const declaredState: fc.Arbitrary<DeclaredState> = fc
  .record({
    keys: groupKeys,
    emails,
    placement: fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
    allocations: fc.array(fc.option(amount, { nil: null }), { minLength: 12, maxLength: 12 }),
    extras: fc.array(fc.oneof(fc.constant('0'), amount), { minLength: 12, maxLength: 12 }),
    groupExtras: fc.array(amount, { minLength: 7, maxLength: 7 }),
    cadence: fc.constantFrom('calendar-month', '1w', '1d', '12h'),
    timezone: fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York'),
    factor: fc.constantFrom('0', '1000', '2.5'),
    protect: fc.boolean(),
  })
  .map((r) => {
    const keys = [...r.keys, DEFAULT_GROUP].sort();
    const members = r.emails
      .map((email, i) => ({
        email,
        group: keys[r.placement[i]! % keys.length]!,
        allocation: r.allocations[i]!,
        extra: r.extras[i]!,
      }))
      .sort((a, b) => (a.email < b.email ? -1 : 1));
    const groups = keys.map((key, i) => {
      const need = members
        .filter((m) => m.group === key)
        .reduce((s, m) => s + Number(m.allocation ?? 0) + Number(m.extra), 0);
      // Whole credits above the members' exact sum keep the rule satisfied without float doubt.
      const allocation = String(Math.ceil(need) + 10);
      return {
        key,
        name: key === DEFAULT_GROUP ? 'Default' : key.toUpperCase(),
        allocation,
        extra: r.groupExtras[i]!,
        autoApprove: '5',
        protect: key !== DEFAULT_GROUP && r.protect,
      };
    });
    const limit = String(
      groups.reduce((s, g) => s + Number(g.allocation) + Math.ceil(Number(g.extra)), 0) + 100,
    );
    return {
      account: {
        id: 'prop',
        name: 'Property Co',
        creditLimit: limit,
        cadence: r.cadence,
        timezone: r.timezone,
        creditFactor: r.factor,
        signupCredits: '0',
        managedBy: null,
      },
      groups,
      members,
    };
  });

describe.each(storeKinds)('round trip on %s', (_kind, freshStore) => {
  it('apply(A); apply(B); plan(B) is empty and live state equals B', async () => {
    const store = await freshStore();
    await fc.assert(
      fc.asyncProperty(declaredState, declaredState, async (a, b) => {
        await store.query('TRUNCATE accounts, groups, members, cycles, audit_log CASCADE');
        for (const state of [a, b]) {
          const text = renderYaml(state);
          const loaded = loadConfig(text, { file: 'prop.yaml' });
          expect(loaded.ok).toBe(true);
          const p = await makePlan(store, { bytes: text, file: 'prop.yaml', allowDestroy: true });
          await applyPlan(store, p, { actor: 'prop' });
        }
        const textB = renderYaml(b);
        // Defeat the digest fast path so the full diff runs.
        const again = await makePlan(store, {
          bytes: textB + '# again\n',
          file: 'prop.yaml',
          allowDestroy: true,
        });
        expect(again.plan.changes).toEqual([]);
        const live = await inspect(store, 'prop');
        expect(live.state).toEqual(
          (loadConfig(textB, { file: 'prop.yaml' }) as { desired: DeclaredState }).desired,
        );
      }),
      { numRuns: 25 },
    );
  });
});
