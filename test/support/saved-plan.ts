// Shared by the saved-plan tests: a small account, a saved plan of one edit, tampers of it, and a snapshot of
// everything an apply writes (to prove a refused apply wrote nothing).
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { renderJson } from '../../src/render/json.js';
import type { Change, Plan } from '../../src/plan/plan.js';
import type { Queryable, Store } from '../../src/state/store.js';

export const configFile = (engAllocation: number, extraMembers = '') => `version: 1
account:
  id: acme
  creditLimit: 1000
groups:
  eng:
    allocation: ${engAllocation}
    members:
      alice@acme.test: 10
      bob@corp.group: 20
${extraMembers}  ops:
    allocation: 100
`;

/** The applied state: eng at 200. The reviewed change: eng to 300. */
export const APPLIED = configFile(200);
export const REVIEWED = configFile(300);

/** Applies APPLIED, then saves the plan of REVIEWED as `credits plan --out` writes it. */
export async function savedPlanText(store: Store): Promise<string> {
  await applyPlan(store, await makePlan(store, { bytes: APPLIED, file: 'credits.yaml' }), { actor: 't' });
  return renderJson((await makePlan(store, { bytes: REVIEWED, file: 'credits.yaml' })).plan);
}

/** Everything an apply may write, as one comparable value. */
export async function snapshot(db: Queryable): Promise<unknown> {
  const rows = async (sql: string) => (await db.query(sql)).rows;
  return {
    accounts: await rows('SELECT * FROM accounts ORDER BY account_id'),
    groups: await rows('SELECT * FROM groups ORDER BY account_id, group_key'),
    members: await rows('SELECT * FROM members ORDER BY account_id, email'),
    audit: await rows('SELECT * FROM audit_log ORDER BY account_id, audit_id'),
    files: await rows('SELECT account_id, config_digest, md5(file_text) FROM applied_files ORDER BY 1'),
    cycles: await rows('SELECT count(*) AS n FROM budget_counters'),
  };
}

const change = (c: Partial<Change> & Pick<Change, 'address' | 'action'>): Change => ({
  before: null,
  after: null,
  effects: [],
  ...c,
});

type Edit = (plan: Plan) => void;
const eng = (p: Plan) => p.changes.find((c) => c.address === 'group.eng.allocation')!;

/** The tampers of the brief: what each does to the saved plan, and the code it must be refused with. */
export const TAMPERS: [string, Edit, string][] = [
  ['one after edited from 300 to 400000', (p) => void (eng(p).after = '400000'), 'PLAN_MISMATCH'],
  ['a negative allocation', (p) => void (eng(p).after = '-50'), 'PLAN_MISMATCH'],
  [
    'managedBy: dashboard',
    (p) => {
      p.changes.push(change({ address: 'account.managedBy', action: 'update', after: 'dashboard' }));
      p.summary.update++;
    },
    'PLAN_MISMATCH',
  ],
  [
    'a new member',
    (p) => {
      p.changes.push(
        change({
          address: 'member.mallory@evil.test',
          action: 'create',
          after: { group: 'eng', allocation: '500', extra: '0' },
        }),
      );
      p.summary.create++;
    },
    'PLAN_MISMATCH',
  ],
  [
    "a credit limit below the groups' total",
    (p) => {
      p.changes.push(
        change({ address: 'account.creditLimit', action: 'update', before: '1000', after: '100' }),
      );
      p.summary.update++;
    },
    'PLAN_MISMATCH',
  ],
  [
    'the address typo.allocation',
    (p) => void p.changes.push(change({ address: 'typo.allocation', action: 'update', after: '5' })),
    'PLAN_INVALID',
  ],
  ['the changes removed', (p) => void ((p.changes = []), (p.summary.update = 0)), 'PLAN_MISMATCH'],
  ['the configuration edited', (p) => void (p.config += '# edited\n'), 'PLAN_MISMATCH'],
  ['the state serial moved back', (p) => void (p.stateSerial = 0), 'PLAN_STALE'],
  [
    'another database identity',
    (p) => void (p.databaseId = '00000000-0000-4000-8000-000000000000'),
    'PLAN_WRONG_DATABASE',
  ],
];

export function tampered(text: string, edit: Edit): string {
  const plan = JSON.parse(text) as Plan;
  edit(plan);
  return JSON.stringify(plan, null, 2) + '\n';
}
