// A plan of an edited file reads only the changed group entries (src/planner/plan-edit.ts); it must give exactly
// the plan, or exactly the errors, of the full parse. Each case plans both ways against the same live state.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { storeKinds } from '../support/databases.js';
import { ConfigInvalid, makePlan } from '../../src/planner/plan-against-store.js';
import { guessAccountId } from '../../src/planner/config-bytes.js';
import { inspect, readMemberText } from '../../src/state/inspect.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { partToReread, splitLayout } from '../../src/config/layout.js';
import { isCreditsError } from '../../src/errors.js';
import type { Store } from '../../src/state/store.js';

const now = new Date('2026-03-01T10:00:00Z');
const company = readFileSync('examples/company.yaml', 'utf8');
const small = readFileSync('examples/small.yaml', 'utf8');

/** A plan, or the coded errors (with positions) the file gives, of one way of planning. */
async function outcome(store: Store, text: string, reuseApplied: boolean) {
  try {
    const { plan, source } = await makePlan(store, { bytes: text, file: 'credits.yaml', now, reuseApplied });
    return { plan, path: source.path };
  } catch (err) {
    if (err instanceof ConfigInvalid) {
      return { errors: err.errors.map((e) => ({ code: e.code, message: e.message, at: e.position })) };
    }
    if (isCreditsError(err)) return { error: err.code, message: err.message };
    throw err;
  }
}

/** Plans text both ways and expects the same result; returns which way the default planner went. */
async function same(store: Store, text: string): Promise<string | undefined> {
  const edit = await outcome(store, text, true);
  const full = await outcome(store, text, false);
  const { path, ...rest } = edit;
  const { path: fullPath, ...fullRest } = full;
  expect(rest).toEqual(fullRest);
  if (fullPath !== undefined && fullPath !== 'unchanged') expect(fullPath).toBe('full');
  return path ?? ('errors' in edit ? 'errors' : 'error');
}

async function applyText(store: Store, text: string): Promise<void> {
  const plan = await makePlan(store, { bytes: text, file: 'credits.yaml', now, allowDestroy: true });
  if (plan.plan.changes.length) await applyPlan(store, plan, { actor: 'test' });
}

/** A file of `groups` groups of `per` members in the shapes people write: a number, a mapping, `{}`. */
function generated(groups: number, per: number): string {
  const lines = ['# generated for edit-plan.test.ts', 'version: 1', 'account:', '  id: editco'];
  lines.push('  name: Edit Co', '  creditLimit: 1000000', '  cycle:', '    cadence: 1w', '    timezone: UTC');
  lines.push('groups:');
  for (let g = 0; g < groups; g++) {
    lines.push(`  team-${g}:`, `    name: Team ${g}`, '    allocation: 20000', `    extra: ${g * 10}`);
    if (g % 3 === 0) lines.push('    autoApprove: 100', '    protect: true');
    lines.push('    members:');
    for (let i = 0; i < per; i++) {
      const email = `u${g}-${i}@edit.test`;
      const shape = (g + i) % 3;
      lines.push(
        shape === 0
          ? `      ${email}: ${100 + i}`
          : shape === 1
            ? `      ${email}: { allocation: ${200 + i}, extra: 2.5 }`
            : `      ${email}: {}`,
      );
    }
    if (g === 1) lines.push('  # a comment between groups', '');
  }
  lines.push('  default:', '    allocation: 500');
  return lines.join('\n') + '\n';
}

const base = generated(8, 6);

describe('layout of a file into group entries', () => {
  it('cuts the examples into head, entries and tail, and refuses what is outside the one-line subset', () => {
    const layout = splitLayout(company)!;
    expect(layout.blocks.map((b) => b.key)).toEqual([
      'engineering',
      'data-science',
      'support',
      'marketing',
      'default',
    ]);
    expect(layout.head + layout.blocks.map((b) => b.text).join('') + layout.tail).toBe(company);
    expect(splitLayout(base)!.blocks).toHaveLength(9);
    for (const bad of [
      'name: "Quoted"',
      "name: 'Quoted'",
      'name: |',
      'name: >-',
      'name: &anchor x',
      'name: *alias',
      'name: !!str x',
      '- item',
      '? complex',
      '\tname: x',
      'name: a: b',
      'name: {a: [1]}',
      'name: {a: "x"}',
      'name: x\r',
      '---',
      '%YAML 1.2',
      'name: x#y',
      'name: [1, 2]',
    ]) {
      expect(splitLayout(small.replace('    name: Team', `    ${bad}`)), bad).toBeUndefined();
    }
    expect(splitLayout(small.replace('groups:', 'groups: {}'))).toBeUndefined();
    expect(splitLayout(small.replace('  team:', '  Team:'))).toBeUndefined();
  });
});

describe('what is read again', () => {
  it('only the changed entries, and nothing when most of a large file changed', () => {
    const big = generated(300, 20);
    const layout = splitLayout(big)!;
    const one = partToReread(splitLayout(big.replace('u5-3@edit.test', 'u5-3x@edit.test'))!, layout)!;
    expect(one.unchanged.size).toBe(300);
    expect(one.unchanged.has('team-5')).toBe(false);
    expect(one.text).toContain('u5-3x@edit.test');
    expect(one.text).not.toContain('u6-3@edit.test');
    // Nothing changed but the head: one entry is read anyway, so that `groups` is not empty.
    expect(partToReread(layout, layout)!.unchanged.size).toBe(300);
    expect(partToReread(splitLayout(big.replace(/^( {2,})/gm, '$1$1'))!, layout)).toBeUndefined();
  });
});

describe.each(storeKinds)('edited-file plans equal full plans on %s', (kind, freshStore) => {
  it('every example/invalid file gives the same errors both ways', async () => {
    const store = await freshStore();
    await applyText(store, small);
    const dir = 'examples/invalid';
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      await same(store, readFileSync(join(dir, f), 'utf8'));
    }
  });

  it('a table of edits: the same plan or errors, read in part where that is provable', async () => {
    const store = await freshStore();
    await applyText(store, company);
    // Users who signed up on their own, on the Default group's terms, are not declared: they move no
    // declared_version. (One given other terms outside the file is drift: runtime-members.test.ts.)
    await store.query(
      `INSERT INTO members (account_id, email, group_key) VALUES
         ('northwind', 'walk.in@northwind.example', 'default'), ('northwind', 'signup@northwind.example', 'default')`,
    );
    const edits: [string, (t: string) => string, 'edit' | 'full' | 'errors' | 'error'][] = [
      [
        'one allocation',
        (t) => t.replace('chen.li@northwind.example: 6000', 'chen.li@northwind.example: 5000'),
        'edit',
      ],
      ['comment only', (t) => t.replace('  support:\n', '  support: # still support\n'), 'edit'],
      ['trailing comment', (t) => t + '# touched\n', 'edit'],
      ['account name', (t) => t.replace('name: Northwind Traders GmbH', 'name: Northwind AG'), 'edit'],
      ['cadence', (t) => t.replace('cadence: calendar-month', 'cadence: 1w'), 'edit'],
      ['limit below the groups', (t) => t.replace('creditLimit: 250000', 'creditLimit: 1000'), 'errors'],
      [
        'limit over, by an unchanged group',
        (t) => t.replace('allocation: 15000', 'allocation: 100000'),
        'errors',
      ],
      [
        'a new member',
        (t) =>
          t.replace(
            '      nora.berg@northwind.example: {}',
            '      nora.berg@northwind.example: {}\n      new.one@northwind.example: 10',
          ),
        'edit',
      ],
      ['a member removed', (t) => t.replace('      nora.berg@northwind.example: {}\n', ''), 'edit'],
      [
        'a member moved (both entries edited)',
        (t) =>
          t
            .replace('      nora.berg@northwind.example: {}\n', '')
            .replace(
              '      lena.fischer@northwind.example: {}',
              '      lena.fischer@northwind.example: {}\n      nora.berg@northwind.example: {}',
            ),
        'edit',
      ],
      [
        'a member added to a second group only',
        (t) =>
          t.replace(
            '      lena.fischer@northwind.example: {}',
            '      lena.fischer@northwind.example: {}\n      nora.berg@northwind.example: {}',
          ),
        'errors',
      ],
      [
        'the same member in other case in a second group',
        (t) =>
          t.replace(
            '      lena.fischer@northwind.example: {}',
            '      lena.fischer@northwind.example: {}\n      Nora.Berg@northwind.example: {}',
          ),
        'errors',
      ],
      ['a group renamed', (t) => t.replace('  marketing:', '  growth:'), 'edit'],
      ['a group deleted', (t) => t.replace(/ {2}marketing:\n(?: {4}.*\n)*/, ''), 'edit'],
      ['a protected group deleted', (t) => t.replace(/ {2}engineering:\n(?: {4}.*\n)*/, ''), 'error'],
      [
        'a signed-up user declared',
        (t) =>
          t.replace(
            '      nora.berg@northwind.example: {}',
            '      nora.berg@northwind.example: {}\n      signup@northwind.example: 5',
          ),
        'edit',
      ],
      ['a new group', (t) => t.replace('  default:', '  legal:\n    allocation: 10\n  default:'), 'edit'],
      [
        'a duplicated group key',
        (t) => t.replace('  default:', '  support:\n    allocation: 10\n  default:'),
        'errors',
      ],
      ['the default entry removed', (t) => t.replace(/ {2}default:\n(?: {4}.*\n)*/, ''), 'edit'],
      [
        'a negative allocation',
        (t) => t.replace('chen.li@northwind.example: 6000', 'chen.li@northwind.example: -1'),
        'errors',
      ],
      ['a bad e-mail', (t) => t.replace('chen.li@northwind.example', 'chen.li@northwind'), 'errors'],
      ['an unknown key', (t) => t.replace('    allocation: 60000', '    allocaton: 60000'), 'errors'],
      [
        'a quoted name (outside the subset)',
        (t) => t.replace('name: Marketing', 'name: "Marketing"'),
        'full',
      ],
      ['re-indented groups (everything changed)', (t) => t.replace(/^( {2,})/gm, '$1$1'), 'edit'],
      ['a second document', (t) => t + '---\nversion: 1\n', 'errors'],
      ['groups emptied', (t) => t.replace(/^groups:\n[\s\S]*$/m, 'groups:\n'), 'errors'],
      [
        'a group over budget',
        (t) => t.replace('greta.lund@northwind.example: 20000', 'greta.lund@northwind.example: 90000'),
        'errors',
      ],
    ];
    const seen: Record<string, string | undefined> = {};
    for (const [name, edit, expected] of edits) {
      const text = edit(company);
      expect(text, name).not.toBe(company);
      seen[name] = await same(store, text);
      expect(seen[name], name).toBe(expected);
    }
  });

  it('after an apply from an edited plan, the next edits plan the same both ways; drift falls back', async () => {
    const store = await freshStore();
    await applyText(store, company);
    const first = company.replace(
      'hiro.tanaka@northwind.example: 15000',
      'hiro.tanaka@northwind.example: 14000',
    );
    const plan = await makePlan(store, { bytes: first, file: 'credits.yaml', now });
    expect(plan.source.path).toBe('edit');
    await applyPlan(store, plan, { actor: 'test' });
    expect((await makePlan(store, { bytes: first, file: 'x', now })).plan.changes).toEqual([]);
    expect(
      (await makePlan(store, { bytes: first, file: 'x', now, reuseApplied: false })).plan.changes,
    ).toEqual([]);
    const second = first.replace(
      'marco.rossi@northwind.example: 3000.5',
      'marco.rossi@northwind.example: 3000.25',
    );
    expect(await same(store, second)).toBe('edit');
    // A write that bypasses credits: declared_version moves, so nothing is taken from the stored text.
    await store.query(
      "UPDATE members SET allocation = 1 WHERE account_id = 'northwind' AND email = 'greta.lund@northwind.example'",
    );
    expect(await same(store, second)).toBe('full');
    // An apply of a plan made before such a write keeps no text: its basis moved.
    const early = await makePlan(store, { bytes: second, file: 'x', now });
    expect(early.source.path).toBe('full');
    await store.query(
      "UPDATE members SET allocation = 2 WHERE account_id = 'northwind' AND email = 'greta.lund@northwind.example'",
    );
    await applyPlan(store, early, { actor: 'test' });
    expect(await same(store, second.replace('allocation: 15000', 'allocation: 15001'))).toBe('full');
    // The next apply made and applied in one go keeps it again.
    await applyText(store, second.replace('allocation: 15000', 'allocation: 15002'));
    expect(await same(store, second.replace('allocation: 15000', 'allocation: 15003'))).toBe('edit');
  });

  it('repeated applies of a large file keep about one copy of its text', async () => {
    const store = await freshStore();
    const big = generated(300, 20).replace('creditLimit: 1000000', 'creditLimit: 100000000');
    await applyText(store, big);
    for (let i = 1; i <= 6; i++)
      await applyText(store, big.replace('allocation: 20000', `allocation: ${20000 + i}`));
    const { rows } = await store.query<{ size: string }>(
      "SELECT pg_total_relation_size('applied_files') AS size",
    );
    // PostgreSQL's autovacuum reclaims the old texts in time; PGlite has none, so apply vacuums the table.
    if (kind === 'pglite') expect(Number(rows[0]!.size)).toBeLessThan(3 * big.length);
    expect(await same(store, big.replace('allocation: 20000', 'allocation: 19999'))).toBe('edit');
  });

  it('members read before the account row count only when no declared write came between', async () => {
    const store = await freshStore();
    await applyText(store, company);
    const early = readMemberText(store, 'northwind');
    const live = await inspect(store, 'northwind', { prefetched: early });
    expect(live.declaredVersion).toEqual(expect.any(Number));
    expect(live).toEqual({ ...(await inspect(store, 'northwind')) });
    const before = readMemberText(store, 'northwind');
    await before;
    await store.query("UPDATE groups SET extra = 1 WHERE account_id = 'northwind' AND group_key = 'support'");
    const straddled = await inspect(store, 'northwind', { prefetched: before });
    expect(straddled.declaredVersion).toBeUndefined();
    expect(guessAccountId(company)).toBe('northwind');
    expect(guessAccountId(Buffer.from(small))).toBe('tinyco');
  });

  // Random line edits of a generated file: most stay valid and in the subset, many break a rule or the subset.
  const line = fc.nat({ max: 200 });
  const edit = fc.oneof(
    fc.record({
      op: fc.constant('number' as const),
      line,
      value: fc.constantFrom('0', '7', '150.5', '99999', '20001', '-3', '1.1234567'),
    }),
    fc.record({ op: fc.constant('delete' as const), line }),
    fc.record({ op: fc.constant('duplicate' as const), line }),
    fc.record({ op: fc.constant('swap' as const), line }),
    fc.record({ op: fc.constant('move' as const), line, to: line }),
    fc.record({ op: fc.constant('indent' as const), line, by: fc.constantFrom(-2, 2) }),
    fc.record({ op: fc.constant('upper' as const), line }),
    fc.record({
      op: fc.constant('insert' as const),
      line,
      text: fc.constantFrom(
        '      fresh@edit.test: 5',
        '      u0-0@edit.test: 1',
        '      U1-1@edit.test: {}',
        '      fresh@edit.test: { allocation: 5, extra: 1 }',
        '  team-new:',
        '  team-new:\n    allocation: 5',
        '  team-3:\n    allocation: 5',
        '    name: "Quoted"',
        '  # comment',
        '',
        '    allocation: 1',
        '  default:\n    allocation: 1',
        'version: 1',
        '      x@edit.test: &a {}',
        '      y@edit.test: *a',
        '    protect: true',
        '    extra: .inf',
        '---',
      ),
    }),
  );

  type Edit = { op: string; line: number; value?: string; to?: number; by?: number; text?: string };
  function mutate(text: string, edits: Edit[]): string {
    const lines = text.split('\n');
    for (const e of edits) {
      const i = e.line % lines.length;
      const l = lines[i]!;
      switch (e.op) {
        case 'number':
          lines[i] = l.replace(/\d+(\.\d+)?/, String(e.value));
          break;
        case 'delete':
          lines.splice(i, 1);
          break;
        case 'duplicate':
          lines.splice(i, 0, l);
          break;
        case 'swap':
          if (i + 1 < lines.length) [lines[i], lines[i + 1]] = [lines[i + 1]!, l];
          break;
        case 'move': {
          const [taken] = lines.splice(i, 1);
          lines.splice(Number(e.to) % (lines.length + 1), 0, taken!);
          break;
        }
        case 'indent':
          lines[i] = e.by === 2 ? `  ${l}` : l.replace(/^ {2}/, '');
          break;
        case 'upper':
          lines[i] = l.replace(/u(\d)/, 'U$1');
          break;
        case 'insert':
          lines.splice(i, 0, String(e.text));
          break;
      }
    }
    return lines.join('\n');
  }

  it('random edits of a generated file: the same plan or errors both ways', async () => {
    const store = await freshStore();
    let live = base;
    await applyText(store, base);
    const paths: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        fc.boolean(),
        async (edits, applyIt, fromBase) => {
          if (fromBase && live !== base) {
            await applyText(store, base);
            live = base;
          }
          const text = mutate(live, edits);
          const path = await same(store, text);
          paths[path!] = (paths[path!] ?? 0) + 1;
          if (applyIt && (path === 'edit' || path === 'full')) {
            const plan = await makePlan(store, { bytes: text, file: 'f', now, allowDestroy: true }).catch(
              () => undefined,
            );
            if (plan) {
              await applyPlan(store, plan, { actor: 'test' });
              live = text;
              // Applied: planning the same file again is empty, both ways.
              expect(
                (await makePlan(store, { bytes: text + '\n# again\n', file: 'f', now })).plan.changes,
              ).toEqual([]);
              expect(
                (await makePlan(store, { bytes: text, file: 'f', now, reuseApplied: false })).plan.changes,
              ).toEqual([]);
            }
          }
        },
      ),
      {
        // A fixed seed in `npm test`; EDIT_PLAN_RUNS=4000 runs that many random cases (4000 each passed).
        numRuns: Number(process.env.EDIT_PLAN_RUNS ?? (kind === 'postgres' ? 300 : 60)),
        seed: process.env.EDIT_PLAN_RUNS ? undefined : 20260301,
      },
    );
    if (process.env.EDIT_PLAN_DEBUG) console.log(kind, paths);
    // The property means little unless both ways were exercised.
    expect(paths.edit ?? 0).toBeGreaterThan(kind === 'postgres' ? 30 : 5);
    expect((paths.errors ?? 0) + (paths.full ?? 0)).toBeGreaterThan(kind === 'postgres' ? 30 : 5);
  });
});
