// Property: any byte-level edit of a saved plan that changes its meaning is refused with a coded error and
// writes nothing. Edits that keep the meaning (whitespace, number spelling, createdAt, declaredVersion) may
// be accepted; when one is, it applied the very plan that was reviewed. Real PostgreSQL and PGlite, plan
// files read from disk as `credits apply plan.json` reads them.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeKinds } from '../support/databases.js';
import { savedPlanText, snapshot } from '../support/saved-plan.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { ConfigInvalid } from '../../src/planner/plan-against-store.js';
import { readPlanFile } from '../../src/cli/read-plan-file.js';
import { isCreditsError } from '../../src/errors.js';
import type { Store } from '../../src/state/store.js';

/** Sorted-key JSON, so that key order and whitespace do not count. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** What a plan file means: everything but when it was made, the declared_version it saw, and live advice. */
function meaning(bytes: Buffer): string | undefined {
  try {
    const plan = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    delete plan.createdAt;
    delete plan.declaredVersion;
    // Advice read live at plan time is not what a plan means (apply reads it again).
    delete plan.warnings;
    if (Array.isArray(plan.changes))
      for (const c of plan.changes as Record<string, unknown>[]) {
        if (c && typeof c === 'object') {
          delete c.spend;
          delete c.changedBy;
        }
      }
    return canonical(plan);
  } catch {
    return undefined;
  }
}

const RUNS = Number(process.env.PLAN_EDIT_RUNS ?? 60);

const BYTES = [...' \n019ae",.-{}[]:\\'].map((c) => c.charCodeAt(0)).concat([0xff, 0xc3]);
const edit = fc.record({
  op: fc.constantFrom('replace', 'insert', 'delete'),
  at: fc.nat(),
  byte: fc.constantFrom(...BYTES),
});

function applyEdit(text: Buffer, e: { op: string; at: number; byte: number }): Buffer {
  const i = e.at % text.length;
  const b = Buffer.from([e.byte]);
  if (e.op === 'insert') return Buffer.concat([text.subarray(0, i), b, text.subarray(i)]);
  if (e.op === 'delete') return Buffer.concat([text.subarray(0, i), text.subarray(i + 1)]);
  return Buffer.concat([text.subarray(0, i), b, text.subarray(i + 1)]);
}

describe.each(storeKinds)('byte edits of a saved plan on %s', (_kind, freshStore) => {
  it('are refused, writing nothing, unless they keep its meaning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'credits-plan-edits-'));
    const file = join(dir, 'plan.json');
    // A fresh baseline: an applied file and the saved plan of one edit, not yet applied.
    const baseline = async () => {
      const store = await freshStore();
      const text = Buffer.from(await savedPlanText(store));
      return { store, text, before: await snapshot(store) };
    };
    let base = await baseline();
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(edit, async (e) => {
        const edited = applyEdit(base.text, e);
        writeFileSync(file, edited);
        let error: unknown;
        try {
          await applyPlan(base.store as Store, { plan: readPlanFile(file) }, { actor: 'ci' });
        } catch (err) {
          error = err;
        }
        if (error === undefined) {
          accepted++;
          const [was, now] = [meaning(base.text), meaning(edited)];
          // A fresh baseline first, so that a failure here does not leave the next (shrinking) runs stale.
          await base.store.close();
          base = await baseline();
          expect(now).toBeDefined();
          expect(now).toBe(was);
          return;
        }
        refused++;
        if (!isCreditsError(error) && !(error instanceof ConfigInvalid)) throw error;
        expect(await snapshot(base.store)).toEqual(base.before);
      }),
      { numRuns: RUNS },
    );
    await base.store.close();
    // Both sides of the property were exercised.
    expect(refused).toBeGreaterThan(0);
    expect(accepted + refused).toBe(RUNS);
  }, 240_000);
});
