// A saved plan is applied only if it is exactly the plan its own configuration gives against the live state
// now: every tamper of the brief is refused with its code and writes nothing (state serial, rows, audit), and
// the untampered plan still applies afterwards. Real PostgreSQL and PGlite.
import { describe, expect, it } from 'vitest';
import { emptyPgliteStore, freshPgStore, storeKinds } from '../support/databases.js';
import { configFile, REVIEWED, savedPlanText, snapshot, TAMPERS, tampered } from '../support/saved-plan.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { checkPlan } from '../../src/plan/check-plan.js';
import { renderJson } from '../../src/render/json.js';
import { migrate } from '../../src/state/migrate.js';
import type { Store } from '../../src/state/store.js';

/** `credits apply plan.json` without the CLI: read (shape and addresses), then apply. */
const applySaved = async (store: Store, text: string) =>
  applyPlan(store, { plan: checkPlan(JSON.parse(text)) }, { actor: 'ci' });

const plan = (store: Store, text: string) => makePlan(store, { bytes: text, file: 'credits.yaml' });

describe.each(storeKinds)('tampered saved plans on %s', (_kind, freshStore) => {
  it('each tamper is refused with its code, nothing is written, and the reviewed plan (reformatted) still applies', async () => {
    const store = await freshStore();
    const text = await savedPlanText(store);
    const before = await snapshot(store);
    for (const [what, edit, code] of TAMPERS) {
      await expect(applySaved(store, tampered(text, edit)), what).rejects.toMatchObject({ code });
      expect(await snapshot(store), what).toEqual(before);
    }
    // Applied straight (the in-process API, no file reading): the same refusals, PLAN_INVALID included.
    for (const [what, edit, code] of TAMPERS) {
      const p = JSON.parse(tampered(text, edit));
      await expect(applyPlan(store, { plan: p }, { actor: 'ci' }), what).rejects.toMatchObject({ code });
    }
    expect(await snapshot(store)).toEqual(before);

    // Whitespace and key order are not meaning: the reviewed plan, so written, applies.
    const reordered = Object.fromEntries(Object.entries(JSON.parse(text) as object).reverse());
    const result = await applySaved(store, JSON.stringify(reordered));
    expect(result).toMatchObject({ stateSerial: 2, applied: 1 });
    expect((await plan(store, REVIEWED)).plan.changes).toEqual([]);
    await store.close();
  });

  it('PLAN_INVALID names an unknown address', async () => {
    const store = await freshStore();
    const text = await savedPlanText(store);
    const typo = TAMPERS.find(([what]) => what.includes('typo'))![1];
    expect(() => checkPlan(JSON.parse(tampered(text, typo)))).toThrow(
      'not a credits plan file: unknown address typo.allocation (for update)',
    );
    await store.close();
  });

  it('a member whose e-mail ends in .group is deleted as that member, not as a field of another', async () => {
    const store = await freshStore();
    await savedPlanText(store);
    const without = REVIEWED.replace('      bob@corp.group: 20\n', '');
    const saved = renderJson((await plan(store, without)).plan);
    expect(JSON.parse(saved).changes.map((c: { address: string }) => c.address)).toContain(
      'member.bob@corp.group',
    );
    await applySaved(store, saved);
    const { rows } = await store.query<{ email: string; declared: boolean }>(
      "SELECT email, declared FROM members WHERE account_id = 'acme' ORDER BY email",
    );
    expect(rows).toEqual([
      { email: 'alice@acme.test', declared: true },
      { email: 'bob@corp.group', declared: false },
    ]);
    expect((await plan(store, without)).plan.changes).toEqual([]);
    await store.close();
  });
});

describe.each([
  ['postgres', freshPgStore],
  // Not the shared template of freshPgliteStore: a copied database keeps its identity, like any copy.
  [
    'pglite',
    async () => {
      const s = await emptyPgliteStore();
      await migrate(s);
      return s;
    },
  ],
] as const)('a saved plan on another database (%s)', (_kind, freshStore) => {
  it('is refused as PLAN_WRONG_DATABASE, though the account and its serial are the same', async () => {
    const a = await freshStore();
    const b = await freshStore();
    const saved = await savedPlanText(a);
    // B: the same account id at serial 1, holding a member the file does not.
    const other = configFile(200, '      carol@x.corp.group: 5\n');
    await applyPlan(b, await plan(b, other), { actor: 't' });
    const before = await snapshot(b);
    await expect(applySaved(b, saved)).rejects.toMatchObject({ code: 'PLAN_WRONG_DATABASE' });
    expect(await snapshot(b)).toEqual(before);
    expect((await plan(b, other)).plan.changes).toEqual([]);
    expect((await plan(b, REVIEWED)).plan.changes.map((c) => c.address)).toEqual([
      'group.eng.allocation',
      'member.carol@x.corp.group',
    ]);
    await a.close();
    await b.close();
  });
});
