// One refusal at each budget level, with the 402 body it has always answered (blockedBy and what the member,
// the group and the account can still spend), for the library and API refusal tests.
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { recordUsage } from '../../src/ledger/usage.js';
import { signup } from '../../src/ledger/signup.js';
import { syncCapacities } from '../../src/ledger/capacities.js';
import { latestCycle } from '../../src/ledger/cycle-rows.js';
import type { Store } from '../../src/state/store.js';

const config = (id: string) => `version: 1
account:
  id: ${id}
  creditLimit: 1000
  creditFactor: 1
  signupCredits: 10
groups:
  eng:
    allocation: 300
    members:
      alice@acme.test: 100
      bob@acme.test: {}
  default:
    allocation: 100
`;

export interface Refusal {
  account: string;
  member: string;
  credits: string;
  body: {
    blockedBy: string;
    remaining: { member: string; group: string; account: string; rolledOver: string };
  };
}

export const REFUSALS: Refusal[] = [
  {
    // 95 of 100 spent, 10 signup credits: 15 left for the member.
    account: 'member-level',
    member: 'alice@acme.test',
    credits: '20',
    body: { blockedBy: 'member', remaining: { member: '15', group: '205', account: '905', rolledOver: '0' } },
  },
  {
    // The group's budget edited down to 80, below alice's own 100.
    account: 'group-level',
    member: 'alice@acme.test',
    credits: '90',
    body: { blockedBy: 'group', remaining: { member: '80', group: '80', account: '1000', rolledOver: '0' } },
  },
  {
    // The account's limit edited down to 50.
    account: 'account-level',
    member: 'alice@acme.test',
    credits: '60',
    body: { blockedBy: 'account', remaining: { member: '50', group: '300', account: '50', rolledOver: '0' } },
  },
];

/** The accounts of REFUSALS, each in the state its refusal expects. */
export async function setUpRefusals(store: Store): Promise<void> {
  for (const id of REFUSALS.map((r) => r.account)) {
    await applyPlan(store, await makePlan(store, { bytes: config(id), file: `${id}.yaml` }), {
      actor: 'test',
    });
    // A zero-credit event creates the member's counters, as any first event does.
    await recordUsage(store, { accountId: id, member: 'alice@acme.test', credits: '0' });
  }
  await signup(store, { accountId: 'member-level', email: 'alice@acme.test' });
  await recordUsage(store, { accountId: 'member-level', member: 'alice@acme.test', credits: '95' });
  // Admin edits below what the file declares (drift); capacities follow them.
  await store.query(
    "UPDATE groups SET allocation = 80 WHERE account_id = 'group-level' AND group_key = 'eng'",
  );
  await store.query("UPDATE accounts SET credit_limit = 50 WHERE account_id = 'account-level'");
  for (const id of ['group-level', 'account-level']) {
    await syncCapacities(store, id, (await latestCycle(store, id))!.cycleNo);
  }
}

/** The store, counting the round trips made through it (a transaction counts once, its statements too). */
export function counting(store: Store): { store: Store; calls: { queries: number; transactions: number } } {
  const calls = { queries: 0, transactions: 0 };
  return {
    calls,
    store: {
      kind: store.kind,
      query: (sql, params) => {
        calls.queries++;
        return store.query(sql, params);
      },
      transaction: (fn) => {
        calls.transactions++;
        return store.transaction((tx) =>
          fn({
            query: (sql, params) => {
              calls.queries++;
              return tx.query(sql, params);
            },
          }),
        );
      },
      exec: (sql) => store.exec(sql),
      close: () => store.close(),
    } as Store,
  };
}
