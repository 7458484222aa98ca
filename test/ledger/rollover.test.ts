// Rollover of unused credits (docs/ledger.md, "Rollover"), on both stores: a member's unused allocation, at
// most rollover.max, carries into the next cycle only (natural rollover and reset), is spent first, and
// expires at the end of that cycle; after an idle gap the skipped cycle's whole allowance was unused. Each
// case ends with `credits verify` finding nothing.
import { describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { recordUsage, usageEvent } from '../../src/ledger/usage.js';
import { recordUsageEvents } from '../../src/ledger/usage-chunks.js';
import { release, reserve, settle } from '../../src/ledger/reservations.js';
import { resetCycle } from '../../src/ledger/reset-cycle.js';
import { groupsView, memberView } from '../../src/ledger/balances.js';
import { verifyLedger } from '../../src/ledger/verify.js';
import { canonical } from '../../src/decimal.js';
import { exportYaml } from '../../src/cli/commands/export.js';
import { renderHuman } from '../../src/render/human.js';
import type { Store } from '../../src/state/store.js';
import { buildServer } from '../../src/api/server.js';
import { createToken } from '../../src/state/tokens.js';
import { readReplayUsage } from '../../src/ledger/replay-usage.js';

const HOUR = 3_600_000;

const file = (dave = '{ allocation: 100, rollover: { max: 30 } }') => `version: 1
account:
  id: acme
  creditLimit: 1000
  creditFactor: 1
  cycle: { cadence: 1h }
groups:
  eng:
    allocation: 300
    members:
      dave@t.test: ${dave}
      erin@t.test: 100
`;

async function setUp(freshStore: () => Promise<Store>, text = file()) {
  const store = await freshStore();
  await applyPlan(store, await makePlan(store, { bytes: text, file: 'acme.yaml' }), { actor: 't' });
  const { rows } = await store.query<{ starts_at: Date }>(
    "SELECT starts_at FROM cycles WHERE account_id = 'acme' ORDER BY cycle_no DESC LIMIT 1",
  );
  const start = rows[0]!.starts_at.getTime();
  /** An instant `hours` cycles after the first one started (plus a minute). */
  const at = (hours: number) => new Date(start + hours * HOUR + 60_000);
  const use = (member: string, credits: string, hours: number) =>
    recordUsage(store, { accountId: 'acme', member, credits, now: at(hours) });
  const view = (member: string, hours: number) => memberView(store, 'acme', member, at(hours));
  return { store, at, use, view };
}

async function lastCharges(store: Store, member: string): Promise<Record<string, string>> {
  const { rows } = await store.query<{ charges: Record<string, string> }>(
    `SELECT charges FROM ledger_entries WHERE account_id = 'acme' AND member_email = $1 AND kind = 'usage'
      ORDER BY entry_id DESC LIMIT 1`,
    [member],
  );
  return canonicalMap(rows[0]!.charges);
}

const canonicalMap = (m: Record<string, string>) =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [k, canonical(v)]));

async function expectVerified(store: Store) {
  const report = await verifyLedger(store, 'acme');
  expect(report.mismatches).toEqual([]);
  expect(report.shape).toEqual([]);
}

describe.each(storeKinds)('rollover on %s', (_kind, freshStore) => {
  it('carries unused allocation up to max into the next cycle, spent first, within the group', async () => {
    const { store, use, view } = await setUp(freshStore);
    await use('dave@t.test', '40', 0);
    await use('erin@t.test', '40', 0);

    // Natural rollover: 60 unused, at most 30 carried; erin declares no rollover.
    const dave = await view('dave@t.test', 1);
    expect(dave.rolledOver).toBe('30');
    expect(dave.allocation).toBe('100');
    expect(dave.remaining).toMatchObject({ member: '130', rolledOver: '30' });
    expect((await view('erin@t.test', 1)).rolledOver).toBe('0');

    // Spent first: the carry, then the allocation; both count against the group and the account.
    const first = await use('dave@t.test', '10', 1);
    expect(first.remaining).toMatchObject({ member: '120', rolledOver: '20' });
    expect(await lastCharges(store, 'dave@t.test')).toEqual({
      'carry:dave@t.test': '10',
      'group:eng': '10',
      account: '10',
    });
    await use('dave@t.test', '30', 1);
    expect(await lastCharges(store, 'dave@t.test')).toEqual({
      'carry:dave@t.test': '20',
      'member:dave@t.test': '10',
      'group:eng': '30',
      account: '30',
    });
    // The group's capacity grew by the carry: its members' allocations and the carry all fit.
    const { rows } = await store.query<{ capacity: string }>(
      `SELECT trim_scale(sum(capacity))::text AS capacity FROM budget_counters
        WHERE account_id = 'acme' AND cycle_no = 2 AND scope = 'group:eng'`,
    );
    expect(rows[0]!.capacity).toBe('330');
    // The ledger says what rolled over, from which cycle.
    const entries = await store.query<{ credits: string; metadata: unknown }>(
      `SELECT trim_scale(credits)::text AS credits, metadata FROM ledger_entries
        WHERE account_id = 'acme' AND kind = 'rollover'`,
    );
    expect(entries.rows).toEqual([{ credits: '30', metadata: { scope: 'carry:dave@t.test', fromCycle: 1 } }]);
    await expectVerified(store);
    await store.close();
  });

  it('expires at the end of its cycle: an unspent carry is not carried again', async () => {
    const { store, use, view } = await setUp(freshStore);
    await use('erin@t.test', '1', 0);
    expect((await view('dave@t.test', 1)).rolledOver).toBe('30');
    await use('erin@t.test', '1', 1); // cycle 2 has a row; dave spends nothing of carry or allocation
    const third = await view('dave@t.test', 2);
    expect(third.rolledOver).toBe('30');
    expect(third.remaining.member).toBe('130');
    await expect(use('dave@t.test', '130.000001', 2)).rejects.toMatchObject({
      code: 'BUDGET_EXCEEDED',
      details: { blockedBy: 'member', remaining: { member: '130', rolledOver: '30' } },
    });
    await use('dave@t.test', '130', 2);
    await expectVerified(store);
    await store.close();
  });

  it('carries from the cycle just before: after an idle gap that cycle left its whole allowance unused', async () => {
    const next = await setUp(freshStore);
    await next.use('dave@t.test', '95', 0);
    expect((await next.view('dave@t.test', 1)).rolledOver).toBe('5');
    await expectVerified(next.store);
    await next.store.close();

    const gap = await setUp(freshStore);
    await gap.use('dave@t.test', '95', 0);
    expect((await gap.view('dave@t.test', 3)).rolledOver).toBe('30');
    await expectVerified(gap.store);
    await gap.store.close();
  });

  it('a reset is a cycle boundary too; a settle for less gives the carry back last', async () => {
    const { store, at, use } = await setUp(freshStore);
    await use('dave@t.test', '90', 0);
    await resetCycle(store, { accountId: 'acme', now: new Date(at(0).getTime() + 60_000) });
    const after = new Date(at(0).getTime() + 120_000);
    expect((await memberView(store, 'acme', 'dave@t.test', after)).rolledOver).toBe('10');

    const hold = await reserve(store, {
      accountId: 'acme',
      member: 'dave@t.test',
      credits: '15',
      now: after,
    });
    const held = await store.query<{ charges: Record<string, string> }>(
      'SELECT charges FROM reservations WHERE reservation_id = $1',
      [hold.id],
    );
    expect(canonicalMap(held.rows[0]!.charges)).toMatchObject({
      'carry:dave@t.test': '10',
      'member:dave@t.test': '5',
    });
    await settle(store, { accountId: 'acme', id: hold.id, credits: '8', now: after });
    // 7 given back: the allocation's 5 first, then 2 of the carry.
    const dave = await memberView(store, 'acme', 'dave@t.test', after);
    expect(dave.remaining).toMatchObject({ member: '102', rolledOver: '2' });
    expect(dave.used).toBe('8');
    await expectVerified(store);
    await store.close();
  });

  it('removing rollover from the file expires what is left of the carry at once', async () => {
    const { store, use, view } = await setUp(freshStore);
    await use('dave@t.test', '50', 0);
    await use('dave@t.test', '10', 1);
    expect((await view('dave@t.test', 1)).remaining.rolledOver).toBe('20');
    // Applied now, in the first cycle's hour; the counters synced are those of the latest cycle (the second).
    await applyPlan(store, await makePlan(store, { bytes: file('100'), file: 'acme.yaml' }), { actor: 't' });
    const dave = await view('dave@t.test', 1);
    expect(dave.rolledOver).toBe('10');
    expect(dave.remaining).toMatchObject({ member: '100', rolledOver: '0' });
    await use('dave@t.test', '5', 1);
    expect(await lastCharges(store, 'dave@t.test')).toMatchObject({ 'member:dave@t.test': '5' });
    await expectVerified(store);
    await store.close();
  });

  it('a carry expired by removing rollover stays expired when a hold charged to it is released', async () => {
    const { store, at, use, view } = await setUp(freshStore);
    await use('dave@t.test', '50', 0); // 30 carried into cycle 2
    const hold = await reserve(store, {
      accountId: 'acme',
      member: 'dave@t.test',
      credits: '25',
      now: at(1),
    });
    await applyPlan(store, await makePlan(store, { bytes: file('100'), file: 'acme.yaml' }), { actor: 't' });
    expect((await view('dave@t.test', 1)).remaining).toMatchObject({ member: '100', rolledOver: '0' });
    // The hold gives its 25 back; what rolled over is gone all the same: nothing is charged to the carry.
    await release(store, { accountId: 'acme', id: hold.id });
    const dave = await view('dave@t.test', 1);
    expect(dave.rolledOver).toBe('0');
    expect(dave.remaining).toMatchObject({ member: '100', rolledOver: '0' });
    await use('dave@t.test', '5', 1);
    expect(await lastCharges(store, 'dave@t.test')).toMatchObject({ 'member:dave@t.test': '5' });
    await expectVerified(store);
    await store.close();
  });

  it('plans show a rollover line; export round-trips it (export then plan is empty)', async () => {
    const { store } = await setUp(freshStore);
    const planOf = async (text: string) => (await makePlan(store, { bytes: text, file: 'acme.yaml' })).plan;
    expect((await planOf(file())).changes).toEqual([]);
    expect((await planOf(await exportYaml(store, 'acme'))).changes).toEqual([]);

    const raised = await planOf(file('{ allocation: 100, rollover: { max: 50 } }'));
    expect(raised.changes).toMatchObject([
      { address: 'member.dave@t.test.rollover', action: 'update', before: '30', after: '50' },
    ]);
    expect(renderHuman(raised, { colour: false })).toContain('member.dave@t.test.rollover');
    const removed = await planOf(file('100'));
    expect(removed.changes).toMatchObject([
      { address: 'member.dave@t.test.rollover', action: 'update', before: '30', after: null },
    ]);
    await applyPlan(store, { plan: removed }, { actor: 't' });
    expect((await planOf(file('100'))).changes).toEqual([]);
    expect(await exportYaml(store, 'acme')).toContain('dave@t.test: 100\n');
    await store.close();
  });

  it('concurrent events and batch ingestion spend the carry first, exactly once', async () => {
    const { store, at, use } = await setUp(freshStore);
    await use('erin@t.test', '1', 0); // dave spends nothing: 30 roll over
    // 40 concurrent events of 1: batches form; the fast path stands aside while a carry is left.
    await Promise.all(Array.from({ length: 40 }, () => use('dave@t.test', '1', 1)));
    // 300 events in one batch request (two chunks): the carry is gone, the fast path takes them.
    const events = Array.from({ length: 300 }, () =>
      usageEvent({ accountId: 'acme', member: 'dave@t.test', credits: '0.2', now: at(1) }),
    );
    const answers = await recordUsageEvents(store, 'acme', events, at(1));
    expect(answers.every((a) => 'result' in a)).toBe(true);
    const { rows } = await store.query<{ scope: string; used: string }>(
      `SELECT scope, trim_scale(sum(used))::text AS used FROM budget_counters
        WHERE account_id = 'acme' AND cycle_no = 2 AND scope LIKE '%dave%' GROUP BY scope ORDER BY scope`,
    );
    expect(rows).toEqual([
      { scope: 'carry:dave@t.test', used: '30' },
      { scope: 'member:dave@t.test', used: '70' },
    ]);
    await expectVerified(store);

    // A new cycle: the batch request starts on the carry (one-by-one), then the fast path.
    const next = Array.from({ length: 300 }, () =>
      usageEvent({ accountId: 'acme', member: 'dave@t.test', credits: '0.2', now: at(2) }),
    );
    const later = await recordUsageEvents(store, 'acme', next, at(2));
    expect(later.every((a) => 'result' in a)).toBe(true);
    const third = await store.query<{ charges: Record<string, string> }>(
      `SELECT charges FROM ledger_entries WHERE account_id = 'acme' AND cycle_no = 3 AND kind = 'usage'
        ORDER BY entry_id`,
    );
    const carried = third.rows.map((r) => r.charges['carry:dave@t.test'] ?? '0').map(Number);
    // 30 unused of cycle 2 (100 − 70): the first 150 events are paid by the carry, the rest by the allocation.
    expect(carried.slice(0, 150).every((c) => c === 0.2)).toBe(true);
    expect(carried.slice(150).every((c) => c === 0)).toBe(true);
    await expectVerified(store);
    await store.close();
  });

  it("a group's pool rolls over for its pool members: spent before the pool, counted in the group", async () => {
    const pooled = `version: 1
account:
  id: acme
  creditLimit: 1000
  creditFactor: 1
  cycle: { cadence: 1h }
groups:
  eng:
    allocation: 300
    rollover: { max: 50 }
    members:
      dave@t.test: 100
      erin@t.test: 100
      pat@t.test: {}
`;
    const { store, at, use, view } = await setUp(freshStore, pooled);
    await use('pat@t.test', '70', 0); // the pool of 100 leaves 30 unused
    const pat = await view('pat@t.test', 1);
    expect(pat.rolledOver).toBe('0'); // the member's own: none
    expect(pat.remaining).toMatchObject({ member: '130', rolledOver: '30' });
    const eng = (await groupsView(store, 'acme', at(1))).find((g) => g.key === 'eng')!;
    expect(eng.rolledOver).toBe('30');
    expect((await view('dave@t.test', 1)).remaining).toMatchObject({ rolledOver: '0' });

    await use('pat@t.test', '40', 1);
    expect(await lastCharges(store, 'pat@t.test')).toEqual({
      'carry-pool:eng': '30',
      'pool:eng': '10',
      'group:eng': '40',
      account: '40',
    });
    const { rows } = await store.query<{ capacity: string }>(
      `SELECT trim_scale(sum(capacity))::text AS capacity FROM budget_counters
        WHERE account_id = 'acme' AND cycle_no = 2 AND scope = 'group:eng'`,
    );
    expect(rows[0]!.capacity).toBe('330');
    // A hold for more than the pool can give: refused, naming what is left (the pool's carry is spent).
    await expect(
      reserve(store, { accountId: 'acme', member: 'pat@t.test', credits: '90.5', now: at(1) }),
    ).rejects.toMatchObject({
      code: 'BUDGET_EXCEEDED',
      details: { remaining: { member: '90', rolledOver: '0' } },
    });
    await expectVerified(store);

    // Export carries the group's rollover; planning the export changes nothing.
    const exported = await exportYaml(store, 'acme');
    expect(exported).toContain('    rollover: { max: 50 }\n');
    expect((await makePlan(store, { bytes: exported, file: 'acme.yaml' })).plan.changes).toEqual([]);
    await store.close();
  });
});

// The gaps closed after rollover was merged: the member's history lists their carry, plan --replay leaves out
// a pool's carry spending like a member's, and a direct SQL change of rollover.max is drift in a plan.
const pooledFile = `version: 1
account:
  id: acme
  creditLimit: 1000
  creditFactor: 1
  cycle: { cadence: 1h }
groups:
  eng:
    allocation: 300
    rollover: { max: 50 }
    members:
      dave@t.test: { allocation: 100, rollover: { max: 30 } }
      erin@t.test: 100
      pat@t.test: {}
`;

describe.each(storeKinds)('rollover, seen from history, replay and drift on %s', (_kind, freshStore) => {
  it("GET /v1/members/:email/history lists the member's carry arriving; a pool's carry is in no member's", async () => {
    const { store, at, use } = await setUp(freshStore, pooledFile);
    await use('dave@t.test', '40', 0);
    await use('pat@t.test', '70', 0);
    const token = async (member: string) =>
      (await createToken(store, { accountId: 'acme', role: 'member', member })).token;
    const app = await buildServer({ store, now: () => at(1) });
    try {
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      await use('dave@t.test', '5', 1); // cycle 2: the carry (30) arrived when it opened, then usage
      const history = async (member: string) => {
        const res = await fetch(`${base}/v1/members/${member}/history`, {
          headers: { authorization: `Bearer ${await token(member)}` },
        });
        expect(res.status).toBe(200);
        return ((await res.json()) as { items: { kind: string; credits: string }[] }).items;
      };
      expect((await history('dave@t.test')).map((e) => [e.kind, e.credits])).toEqual([
        ['usage', '5'],
        ['rollover', '30'],
      ]);
      // The pool carried 30 too (100 − 70), but that is the group's: pat's history has none of it.
      expect(await history('pat@t.test')).toEqual([]);
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('plan --replay leaves out what the pool carry paid, as it does the member carry', async () => {
    const { store, use } = await setUp(freshStore, pooledFile);
    await use('pat@t.test', '70', 0); // the pool of 100 leaves 30 unused: 30 carried to cycle 2
    await use('dave@t.test', '40', 0); // 60 unused, 30 carried
    await use('pat@t.test', '45', 1); // 30 from the pool's carry, 15 from the pool
    await use('dave@t.test', '50', 1); // 30 from the carry, 20 from the allocation
    await use('erin@t.test', '1', 2); // opens cycle 3: cycle 2 is the one replayed
    const replay = await readReplayUsage(store, 'acme');
    expect(replay!.cycle.cycleNo).toBe(2);
    const byMember = Object.fromEntries(replay!.hours.map(([e, , c]) => [e, canonical(c)]));
    expect(byMember).toEqual({ 'dave@t.test': '20', 'pat@t.test': '15' });
    await store.close();
  });

  it("a direct SQL change of a member's or a group's rollover.max is drift in the next plan", async () => {
    const { store } = await setUp(freshStore, pooledFile);
    await store.query(
      `UPDATE members SET rollover_max = CASE email WHEN 'dave@t.test' THEN 10 ELSE 20 END
        WHERE account_id = 'acme' AND email IN ('dave@t.test', 'erin@t.test')`,
    );
    await store.query(
      `UPDATE groups SET rollover_max = NULL WHERE account_id = 'acme' AND group_key = 'eng'`,
    );
    const drifted = await makePlan(store, { bytes: pooledFile, file: 'acme.yaml' });
    const changes = drifted.plan.changes.map((c) => ({
      address: c.address,
      before: c.before,
      after: c.after,
      drift: c.drift,
    }));
    expect(changes).toEqual(
      expect.arrayContaining([
        { address: 'member.dave@t.test.rollover', before: '10', after: '30', drift: { applied: '30' } },
        { address: 'member.erin@t.test.rollover', before: '20', after: null, drift: { applied: null } },
        { address: 'group.eng.rollover', before: null, after: '50', drift: { applied: '50' } },
      ]),
    );
    expect(changes).toHaveLength(3);
    expect(renderHuman(drifted.plan, { colour: false })).toContain(
      '3 values were changed outside credits.yaml',
    );
    // Applying sets them back and records them as applied: the next plan is empty, with no drift left.
    await applyPlan(store, drifted, { actor: 't' });
    expect((await makePlan(store, { bytes: pooledFile, file: 'acme.yaml' })).plan.changes).toEqual([]);
    // A file change is not drift: raising max in the file plans an update without it.
    const raised = await makePlan(store, {
      bytes: pooledFile.replace('max: 30', 'max: 40'),
      file: 'acme.yaml',
    });
    expect(raised.plan.changes).toEqual([
      expect.objectContaining({ address: 'member.dave@t.test.rollover', before: '30', after: '40' }),
    ]);
    expect(raised.plan.changes[0]!.drift).toBeUndefined();
    await store.close();
  });
});
