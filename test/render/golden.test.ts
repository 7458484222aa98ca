// Golden-file tests of the plan views: a fixed desired/live pair → diff → human, JSON and Markdown text.
// Regenerate after an intended change with UPDATE_GOLDEN=1 npx vitest run test/render.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { diff } from '../../src/plan/diff.js';
import { renderHuman } from '../../src/render/human.js';
import { renderJson } from '../../src/render/json.js';
import { renderMarkdown, MARKDOWN_MAX_CHARS } from '../../src/render/markdown.js';
import { annotateSpend } from '../../src/plan/spend.js';
import type { Plan } from '../../src/plan/plan.js';
import type { LiveState } from '../../src/live-state.js';
import type { DeclaredState } from '../../src/declared-state.js';

const goldenDir = 'test/golden';

/** Compares with test/golden/<name>; a missing file fails. UPDATE_GOLDEN=1 writes the files instead. */
function golden(name: string, actual: string): void {
  const path = join(goldenDir, name);
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(goldenDir, { recursive: true });
    writeFileSync(path, actual);
  }
  expect(existsSync(path), `${path} is missing: run the test with UPDATE_GOLDEN=1 and review it`).toBe(true);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

const load = (text: string): DeclaredState => {
  const r = loadConfig(text, { file: 'credits.yaml' });
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.desired;
};

const company = readFileSync('examples/company.yaml', 'utf8');
const now = new Date('2026-11-25T12:00:00Z');
const preview = (_c: string, _tz: string, from: Date) => [new Date(from.getTime() + 86_400_000)];

/** Live state: the company file as applied, then edited outside the file (drift) and by usage. */
function liveFrom(state: DeclaredState): LiveState {
  const live = structuredClone(state);
  const support = live.groups.find((g) => g.key === 'support')!;
  support.allocation = '25000'; // drift: the file says 20000
  return {
    state: live,
    stateSerial: 41,
    applied: {
      account: state.account,
      groups: new Map(state.groups.map(({ key, ...g }) => [key, g])),
      members: new Map(state.members.map(({ email, ...m }) => [email, m])),
    },
    usage: { account: '248000', groups: new Map([['marketing', '14000']]) },
    memberCounts: new Map([['marketing', 2]]),
  };
}

function fixturePlan(): Plan {
  const applied = load(company);
  const text = company
    .replace('creditLimit: 250000', 'creditLimit: 247000') // below what is used: effect
    .replace('timezone: Europe/Berlin', 'timezone: Europe/Paris') // fresh cycle: effect
    .replace('allocation: 15000\n    members:\n      marco', 'allocation: 12000\n    members:\n      marco')
    .replace('      nora.berg@northwind.example: {}\n', '')
    .replace(
      '      greta.lund@northwind.example: 20000\n',
      '      greta.lund@northwind.example: 20000\n      nora.berg@northwind.example: {}\n',
    )
    .replace(
      '  support:\n',
      '  legal:\n    name: Legal\n    allocation: 1000\n    members:\n      olga@northwind.example: 500\n  support:\n',
    )
    .replace(
      'ivan.petrov@northwind.example: { allocation: 10000, extra: 2500 }',
      'ivan.petrov@northwind.example: { allocation: 10000 }',
    );
  const plan = diff(load(text), liveFrom(applied), {
    configDigest: 'sha256:' + 'ab'.repeat(32),
    now,
    previewCycles: preview,
  });
  // What makePlan adds for a saved plan: the database, the declared_version seen, the configuration whole.
  return {
    ...plan,
    databaseId: '5f0c7a9e-2b1d-4c3e-9a8f-1e2d3c4b5a69',
    declaredVersion: 57,
    config: text,
  };
}

describe('plan renderers (golden files)', () => {
  const plan = fixturePlan();

  it('the fixture exercises every action, drift and effects', () => {
    expect(plan.summary).toEqual({ create: 2, update: 5, delete: 0, move: 1 });
    expect(plan.changes.some((c) => c.drift)).toBe(true);
  });

  it('human, no colour', () => golden('plan.human.txt', renderHuman(plan, { colour: false })));
  it('human, colour', () => golden('plan.human-colour.txt', renderHuman(plan, { colour: true })));
  it('json', () => golden('plan.json', renderJson(plan)));
  it('markdown', () => golden('plan.md', renderMarkdown(plan)));
  it('a spend-aware plan: used and remaining beside budget changes, coded warnings first, who drifted', () => {
    const spendy = annotateSpend(plan, {
      members: new Map([
        [
          'ivan.petrov@northwind.example',
          { allocation: '10000', extra: '2500', used: '11000', capacity: '12500' },
        ],
        ['nora.berg@northwind.example', { allocation: null, extra: '0', used: '300', capacity: '0' }],
      ]),
      groups: new Map([
        ['marketing', { allocation: '15000', extra: '0', used: '14000' }],
        ['support', { allocation: '25000', extra: '2000', used: '9000' }],
      ]),
      account: { creditLimit: '250000', used: '248000' },
      pendingRequests: new Map([['nora.berg@northwind.example', 2]]),
      openReservations: new Map([['nora.berg@northwind.example', 1]]),
      nextBoundaries: ['2026-11-30T23:00:00.000Z', '2026-12-31T23:00:00.000Z', '2027-01-31T23:00:00.000Z'],
      changedBy: new Map([
        ['group.support.allocation', { source: 'api', actor: 'token:7', at: '2026-11-20T09:30:00.000Z' }],
      ]),
    });
    expect(spendy.warnings.map((w) => w.code)).toEqual([
      'LIMIT_BELOW_USED',
      'CYCLE_RESTARTS',
      'ALLOCATION_BELOW_USED',
      'ALLOCATION_BELOW_USED',
      'MEMBER_WITH_PENDING_REQUESTS',
      'MEMBER_WITH_OPEN_RESERVATIONS',
      'CHANGED_OUTSIDE_FILE',
    ]);
    golden('plan-spend.human.txt', renderHuman(spendy, { colour: false }));
    golden('plan-spend.md', renderMarkdown(spendy));
    // The plan itself is untouched (annotateSpend returns a new one).
    expect(plan.changes.some((c) => c.spend)).toBe(false);
  });

  it('no changes', () => {
    const empty = {
      ...plan,
      changes: [],
      summary: { create: 0, update: 0, delete: 0, move: 0 },
      warnings: [],
    };
    golden('plan-empty.human.txt', renderHuman(empty, { colour: false }));
    golden('plan-empty.md', renderMarkdown(empty));
  });

  it('markdown of a 100k-change plan stays under 60,000 characters and summarises whole lines', () => {
    const changes = Array.from({ length: 100_000 }, (_, i) => ({
      address: `member.user${i}@big.example`,
      action: 'create' as const,
      before: null,
      after: { group: `team-${i % 1000}`, allocation: '100', extra: '0' },
      effects: [],
    }));
    const big: Plan = { ...plan, changes, summary: { create: 100_000, update: 0, delete: 0, move: 0 } };
    const md = renderMarkdown(big);
    expect(md.length).toBeLessThanOrEqual(MARKDOWN_MAX_CHARS);
    expect(md).toMatch(/\| 100000 \| 0 \| 0 \| 0 \|/);
    expect(md).toMatch(/not shown/);
    // Every line is whole: each diff line inside the blocks is a complete change line.
    for (const line of md.split('\n').filter((l) => l.startsWith('+ '))) {
      expect(line).toMatch(/^\+ member\.user\d+@big\.example \(group=team-\d+ allocation=100\)$/);
    }
  });
});
