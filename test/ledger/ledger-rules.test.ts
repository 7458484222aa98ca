// The ledger's rules, one test each, on both stores: enforcement order, tracking off, dollars, signup credits,
// reservations, requests and approvals, idempotency, cycles.
import { describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { recordUsage } from '../../src/ledger/usage.js';
import { reserve, settle, release } from '../../src/ledger/reservations.js';
import { approveRequest, createRequest, denyRequest, listRequests } from '../../src/ledger/requests.js';
import { signup } from '../../src/ledger/signup.js';
import { verifyLedger } from '../../src/ledger/verify.js';
import { ensureCurrentCycle, latestCycle } from '../../src/ledger/cycle-rows.js';
import { resetCycle } from '../../src/ledger/reset-cycle.js';
import type { Store } from '../../src/state/store.js';

const config = (factor = '1', extra = '') => `version: 1
account:
  id: acme
  creditLimit: 1000
  creditFactor: ${factor}
  signupCredits: 10
  cycle:
    cadence: 1d
groups:
  eng:
    allocation: 300
    autoApprove: 20
    members:
      alice@acme.test: 100
      bob@acme.test: {}
${extra}  default:
    allocation: 100
`;

async function setUp(store: Store, text = config()): Promise<void> {
  await applyPlan(store, await makePlan(store, { bytes: text, file: 'acme.yaml' }), { actor: 'test' });
}
const use = (store: Store, member: string, credits: string, extra: object = {}) =>
  recordUsage(store, { accountId: 'acme', member, credits, ...extra });
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: string; details?: object }) => e.code,
  );

describe.each(storeKinds)('ledger rules on %s', (_kind, freshStore) => {
  it('memberAllowanceFirst: an individual allocation is spent, then signup credits, then it blocks at member level', async () => {
    const store = await freshStore();
    await setUp(store);
    await signup(store, { accountId: 'acme', email: 'alice@acme.test' });
    const r = await use(store, 'alice@acme.test', '95');
    expect(r.remaining.member).toBe('15'); // 5 allowance + 10 signup
    await use(store, 'alice@acme.test', '12'); // 5 from allowance, 7 from signup credits
    const blocked = await use(store, 'alice@acme.test', '4').catch(
      (e: { code: string; details: Record<string, unknown> }) => e,
    );
    expect(blocked).toMatchObject({ code: 'BUDGET_EXCEEDED', details: { blockedBy: 'member' } });
    expect(
      (blocked as unknown as { details: { remaining: { member: string } } }).details.remaining.member,
    ).toBe('3');
    expect((await verifyLedger(store, 'acme')).mismatches).toEqual([]);
  });

  it('poolMembersDrawFromTheGroupPool: without an allocation the group pool is the limit', async () => {
    const store = await freshStore();
    await setUp(store);
    const r = await use(store, 'bob@acme.test', '150');
    expect(r.remaining).toMatchObject({ member: '50', group: '150' }); // pool 300 − 100 (alice) − 150
    expect(await codeOf(use(store, 'bob@acme.test', '51'))).toBe('BUDGET_EXCEEDED');
    await use(store, 'bob@acme.test', '50');
  });

  it('accountLimitBlocks: an admin-lowered limit blocks at the account level', async () => {
    const store = await freshStore();
    await setUp(store);
    // An admin edit (drift) lowers the limit below the groups' budgets; capacities follow it.
    await store.query("UPDATE accounts SET credit_limit = 120 WHERE account_id = 'acme'");
    const { syncCapacities } = await import('../../src/ledger/capacities.js');
    await syncCapacities(store, 'acme', (await latestCycle(store, 'acme'))!.cycleNo);
    await use(store, 'bob@acme.test', '100');
    const err = await use(store, 'alice@acme.test', '30').catch((e: { details: object }) => e);
    expect(err).toMatchObject({ code: 'BUDGET_EXCEEDED', details: { blockedBy: 'account' } });
  });

  it('trackingOff: with creditFactor 0 usage is recorded, nothing is charged or blocked', async () => {
    const store = await freshStore();
    await setUp(store, config('0'));
    const r = await recordUsage(store, { accountId: 'acme', member: 'alice@acme.test', costUsd: '500' });
    expect(r).toMatchObject({ credits: '0', charged: false });
    await use(store, 'alice@acme.test', '5000');
    const rows = await store.query("SELECT * FROM ledger_entries WHERE kind = 'usage'");
    expect(rows.rowCount).toBe(2);
  });

  it('dollarsConvertAtTheFactor: costUsd × creditFactor, exact', async () => {
    const store = await freshStore();
    await setUp(store, config('1000'));
    const r = await recordUsage(store, { accountId: 'acme', member: 'alice@acme.test', costUsd: '0.0123' });
    expect(r.credits).toBe('12.3');
  });

  it('signupOnce: signup credits are granted exactly once, however often signup is retried', async () => {
    const store = await freshStore();
    await setUp(store);
    const first = await signup(store, { accountId: 'acme', email: 'New@acme.test', name: 'New' });
    expect(first).toMatchObject({
      email: 'new@acme.test',
      group: 'default',
      created: true,
      signupCredits: '10',
    });
    const again = await Promise.all(
      [1, 2, 3].map(() => signup(store, { accountId: 'acme', email: 'new@acme.test' })),
    );
    expect(again.every((r) => r.signupCredits === '0' && !r.created)).toBe(true);
    const grants = await store.query("SELECT * FROM ledger_entries WHERE kind = 'signup-grant'");
    expect(grants.rowCount).toBe(1);
  });

  it('reservationsHold: a hold counts against budgets until settled (less or more) or released', async () => {
    const store = await freshStore();
    await setUp(store);
    const hold = await reserve(store, { accountId: 'acme', member: 'alice@acme.test', credits: '80' });
    expect(await codeOf(use(store, 'alice@acme.test', '30'))).toBe('BUDGET_EXCEEDED');
    await settle(store, { accountId: 'acme', id: hold.id, credits: '50' });
    await use(store, 'alice@acme.test', '30'); // 50 + 30 of 100
    const h2 = await reserve(store, { accountId: 'acme', member: 'alice@acme.test', credits: '10' });
    expect(await codeOf(settle(store, { accountId: 'acme', id: h2.id, credits: '40' }))).toBe(
      'BUDGET_EXCEEDED',
    );
    await release(store, { accountId: 'acme', id: h2.id });
    expect(await codeOf(release(store, { accountId: 'acme', id: h2.id }))).toBe('RESERVATION_NOT_HELD');
    expect((await verifyLedger(store, 'acme')).mismatches).toEqual([]);
  });

  it('holdsExpire: an expired hold stops counting', async () => {
    const store = await freshStore();
    await setUp(store);
    const t0 = new Date();
    await reserve(store, {
      accountId: 'acme',
      member: 'alice@acme.test',
      credits: '100',
      ttlSeconds: 30,
      now: t0,
    });
    const later = new Date(t0.getTime() + 31_000);
    await reserve(store, { accountId: 'acme', member: 'alice@acme.test', credits: '100', now: later });
    expect((await verifyLedger(store, 'acme')).mismatches).toEqual([]);
  });

  it('requestsAutoApproveFromTheReserve, otherwise pending; approve less, deny, decide once', async () => {
    const store = await freshStore();
    await setUp(store);
    const auto = await createRequest(store, {
      accountId: 'acme',
      member: 'alice@acme.test',
      amount: '15',
      reason: 'demo',
    });
    expect(auto).toMatchObject({ status: 'auto-approved', approvedAmount: '15' });
    const pending = await createRequest(store, {
      accountId: 'acme',
      member: 'alice@acme.test',
      amount: '15',
      reason: 'more',
    });
    expect(pending.status).toBe('pending'); // only 5 left in the reserve
    const approved = await approveRequest(store, {
      accountId: 'acme',
      id: pending.id,
      amount: '10',
      actor: 'admin',
    });
    expect(approved).toMatchObject({ status: 'approved', approvedAmount: '10' });
    expect(await codeOf(approveRequest(store, { accountId: 'acme', id: pending.id, actor: 'admin' }))).toBe(
      'REQUEST_ALREADY_DECIDED',
    );
    const other = await createRequest(store, {
      accountId: 'acme',
      member: 'bob@acme.test',
      amount: '30',
      reason: 'x',
    });
    const denied = await denyRequest(store, {
      accountId: 'acme',
      id: other.id,
      reason: 'no',
      actor: 'admin',
    });
    expect(denied).toMatchObject({ status: 'denied', decisionReason: 'no' });
    expect(await codeOf(denyRequest(store, { accountId: 'acme', id: other.id, actor: 'admin' }))).toBe(
      'REQUEST_ALREADY_DECIDED',
    );
    // Alice's allowance is 100 + 15 + 10 this cycle.
    await use(store, 'alice@acme.test', '125');
    expect(await codeOf(use(store, 'alice@acme.test', '1'))).toBe('BUDGET_EXCEEDED');
    expect((await listRequests(store, 'acme', { status: 'pending' })).items.length).toBe(0);
    expect((await verifyLedger(store, 'acme')).mismatches).toEqual([]);
  });

  it('approvalNeedsGroupBudget: approving more than the group has left fails clearly', async () => {
    const store = await freshStore();
    await setUp(store);
    await use(store, 'bob@acme.test', '190'); // pool 200 − 190 = 10 left
    const req = await createRequest(store, {
      accountId: 'acme',
      member: 'alice@acme.test',
      amount: '50',
      reason: 'x',
    });
    expect(req.status).toBe('pending');
    const err = await approveRequest(store, { accountId: 'acme', id: req.id, actor: 'admin' }).catch(
      (e: Error) => e,
    );
    expect(err).toMatchObject({ code: 'GROUP_BUDGET_INSUFFICIENT' });
    expect((await listRequests(store, 'acme', { status: 'pending' })).items.length).toBe(1); // still pending
  });

  it('idempotencyKeys: same key and body replays, a different body is refused', async () => {
    const store = await freshStore();
    await setUp(store);
    const a = await use(store, 'bob@acme.test', '5', { idempotencyKey: 'k1' });
    const b = await use(store, 'bob@acme.test', '5', { idempotencyKey: 'k1' });
    expect(b).toEqual(a);
    expect(await codeOf(use(store, 'bob@acme.test', '6', { idempotencyKey: 'k1' }))).toBe(
      'IDEMPOTENCY_KEY_REUSED',
    );
    const rows = await store.query("SELECT * FROM ledger_entries WHERE kind = 'usage'");
    expect(rows.rowCount).toBe(1);
  });

  it('cyclesRollOverLazily, and reset starts a fresh cycle with used back at 0', async () => {
    const store = await freshStore();
    await setUp(store);
    const now = new Date();
    await use(store, 'alice@acme.test', '100', { now });
    expect(await codeOf(use(store, 'alice@acme.test', '1', { now }))).toBe('BUDGET_EXCEEDED');
    const first = (await latestCycle(store, 'acme'))!;
    // Ten idle days later (1d cadence): one new row, numbered as the tenth-odd cycle after, budget fresh.
    const later = new Date(first.end.getTime() + 9.5 * 86_400_000);
    await use(store, 'alice@acme.test', '100', { now: later });
    const rolled = (await latestCycle(store, 'acme'))!;
    expect(rolled.cycleNo).toBe(first.cycleNo + 10);
    expect(rolled.start.getTime()).toBe(first.end.getTime() + 9 * 86_400_000);
    const reset = await resetCycle(store, { accountId: 'acme', now: new Date(later.getTime() + 1000) });
    expect(reset.cycleNo).toBe(rolled.cycleNo + 1);
    await use(store, 'alice@acme.test', '100', { now: new Date(later.getTime() + 2000) });
    const cycles = await store.query('SELECT * FROM cycles WHERE account_id = $1', ['acme']);
    expect(cycles.rowCount).toBe(3); // history kept
    expect((await ensureCurrentCycle(store, 'acme', new Date(later.getTime() + 3000))).cycleNo).toBe(
      reset.cycleNo,
    );
  });
});

describe('auto-approve reserve under concurrency (PostgreSQL)', () => {
  it('many small requests at once never take more than the reserve', async () => {
    const [, freshPg] = storeKinds[0];
    const store = await freshPg();
    await setUp(store);
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        createRequest(store, { accountId: 'acme', member: 'bob@acme.test', amount: '1', reason: 'split' }),
      ),
    );
    expect(results.filter((r) => r.status === 'auto-approved')).toHaveLength(20);
    expect(results.filter((r) => r.status === 'pending')).toHaveLength(20);
  });
});
