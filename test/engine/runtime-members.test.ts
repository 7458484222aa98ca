// Users who signed up through the API (not named by credits.yaml) and were then given other terms by an admin
// (the dashboard's PATCH /v1/members/:email) are drift: the plan shows them, apply returns them to the
// Default group's terms, and `credits export` writes them, so that the exported file plans to no changes.
// A signup on the Default group's terms is not part of the declared state and makes no plan noise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { storeKinds } from '../support/databases.js';
import { buildServer } from '../../src/api/server.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { exportYaml } from '../../src/cli/commands/export.js';
import { createToken } from '../../src/state/tokens.js';
import { migrate } from '../../src/state/migrate.js';
import type { Plan } from '../../src/plan/plan.js';
import type { Store } from '../../src/state/store.js';

let id = 'acme';
let accounts = 0;
const file = (opsExtra = 0) => `version: 1
account:
  id: ${id}
  creditLimit: 20000
groups:
  default:
    allocation: 5000
  eng:
    name: Engineering
    allocation: 4000
    members:
      alice@acme.test: 1000
  ops:
    allocation: 1000
    extra: ${opsExtra}
`;

const plan = (store: Store, text: string) =>
  makePlan(store, { bytes: text, file: 'credits.yaml', now: new Date() });
const addresses = ({ plan }: { plan: Plan }) => plan.changes.map((c) => c.address);

describe.each(storeKinds)(
  'users who signed up and were given terms outside credits.yaml, on %s',
  (_k, fresh) => {
    let store: Store;
    let app: FastifyInstance;
    let base: string;
    let admin: string;

    async function call(method: string, path: string, body?: unknown) {
      const res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBeLessThan(300);
      return res.json() as Promise<Record<string, unknown>>;
    }
    const signup = (email: string) => call('POST', '/v1/users', { email });
    const patch = (email: string, body: Record<string, unknown>) =>
      call('PATCH', `/v1/members/${encodeURIComponent(email)}`, body);
    const row = async (email: string) =>
      (
        await store.query<{ group_key: string; allocation: string | null; extra: string; declared: boolean }>(
          `SELECT group_key, trim_scale(allocation)::text AS allocation, trim_scale(extra)::text AS extra, declared
           FROM members WHERE account_id = $1 AND email = $2`,
          [id, email],
        )
      ).rows[0];

    beforeAll(async () => {
      store = await fresh();
      app = await buildServer({ store, rateLimit: 100_000 });
      base = await app.listen({ port: 0, host: '127.0.0.1' });
    });
    afterAll(async () => {
      await app?.close();
    });

    /** A new account: credits.yaml applied, so the next plan of the same bytes takes the no-op shortcut. */
    async function reset(): Promise<void> {
      id = `acme${++accounts}`;
      await applyPlan(store, await plan(store, file()), { actor: 'test' });
      admin = (await createToken(store, { accountId: id, role: 'admin' })).token;
    }
    const declaredVersion = async () =>
      (
        await store.query<{ v: string }>('SELECT declared_version AS v FROM accounts WHERE account_id = $1', [
          id,
        ])
      ).rows[0]!.v;

    it('signup, then a Monthly of 1500: plan shows her as drift; apply returns her to Default; plan is empty', async () => {
      await reset();
      await signup('her@acme.test');
      await patch('her@acme.test', { allocation: '1500' });

      const drifted = await plan(store, file());
      expect(drifted.source.path).not.toBe('unchanged');
      expect(drifted.plan.changes).toEqual([
        {
          address: 'member.her@acme.test',
          action: 'delete',
          before: { group: 'default', allocation: '1500', extra: '0' },
          after: null,
          drift: { applied: { group: 'default', allocation: null, extra: '0' } },
          effects: [expect.stringMatching(/^signed up, not in credits.yaml: returns to the Default group/)],
          // Who gave her those terms: the admin token's API edit, from the audit log.
          changedBy: { source: 'api', actor: expect.stringMatching(/^token:/), at: expect.any(String) },
        },
      ]);
      expect(drifted.plan.warnings).toEqual([
        {
          code: 'CHANGED_OUTSIDE_FILE',
          message: expect.stringMatching(/^1 value was changed outside credits.yaml/),
        },
      ]);
      // An edited file (another group's entry changed) plans her the same way.
      expect(addresses(await plan(store, file(5)))).toEqual(['group.ops.extra', 'member.her@acme.test']);

      await applyPlan(store, drifted, { actor: 'test' });
      expect(await row('her@acme.test')).toEqual({
        group_key: 'default',
        allocation: null,
        extra: '0',
        declared: false,
      });
      expect((await plan(store, file())).plan.changes).toEqual([]);
      expect((await plan(store, file() + '# the full path\n')).plan.changes).toEqual([]);
    });

    it('a move to another group and extra credits are drift too, and return to Default', async () => {
      await reset();
      await signup('mover@acme.test');
      await patch('mover@acme.test', { group: 'eng' });
      await signup('extra@acme.test');
      await patch('extra@acme.test', { extra: '25' });

      const drifted = await plan(store, file());
      expect(drifted.plan.changes.map((c) => [c.address, c.before, c.drift])).toEqual([
        [
          'member.extra@acme.test',
          { group: 'default', allocation: null, extra: '25' },
          { applied: { group: 'default', allocation: null, extra: '0' } },
        ],
        [
          'member.mover@acme.test',
          { group: 'eng', allocation: null, extra: '0' },
          { applied: { group: 'default', allocation: null, extra: '0' } },
        ],
      ]);
      await applyPlan(store, drifted, { actor: 'test' });
      for (const email of ['mover@acme.test', 'extra@acme.test']) {
        expect(await row(email)).toMatchObject({ group_key: 'default', allocation: null, extra: '0' });
      }
      expect((await plan(store, file())).plan.changes).toEqual([]);
    });

    it('export writes her; the plan of the exported file is empty, before and after applying it', async () => {
      await reset();
      await signup('her@acme.test');
      await patch('her@acme.test', { allocation: '1500' });
      await signup('mover@acme.test');
      await patch('mover@acme.test', { group: 'eng', extra: '5' });
      await signup('plain@acme.test'); // Default terms: not written

      const exported = await exportYaml(store, id);
      expect(exported).toContain('      her@acme.test: 1500\n');
      expect(exported).toContain('      mover@acme.test: { extra: 5 }\n');
      expect(exported).not.toContain('plain@acme.test');
      expect((await plan(store, exported)).plan.changes).toEqual([]);
      expect((await plan(store, exported + '# again\n')).plan.changes).toEqual([]);

      // Adopted into the file, an edit of her terms outside it is drift from the file's value.
      await patch('her@acme.test', { allocation: '1200' });
      const again = await plan(store, exported);
      expect(again.plan.changes).toMatchObject([
        { address: 'member.her@acme.test.allocation', before: '1200', after: '1500' },
      ]);
      await applyPlan(store, again, { actor: 'test' });
      expect(await row('her@acme.test')).toMatchObject({ allocation: '1500', declared: true });
      expect((await plan(store, exported)).plan.changes).toEqual([]);
      // The old file (without them) returns both to Default.
      const back = await plan(store, file());
      expect(addresses(back)).toEqual(['member.her@acme.test', 'member.mover@acme.test']);
    });

    it('an edited exported file plans the same read in part as read in full', async () => {
      await reset();
      await signup('her@acme.test');
      await patch('her@acme.test', { allocation: '1500' });
      await signup('mover@acme.test');
      await patch('mover@acme.test', { group: 'eng', extra: '5' });
      const exported = (await exportYaml(store, id)).replace(
        '    allocation: 1000\n',
        '    allocation: 1100\n',
      );
      const first = await plan(store, exported);
      expect(addresses(first)).toEqual(['group.ops.allocation']);
      await applyPlan(store, first, { actor: 'test' });

      const edited = exported.replace('      mover@acme.test: { extra: 5 }\n', '');
      const inPart = await makePlan(store, { bytes: edited, file: 'credits.yaml', now: new Date(0) });
      const inFull = await makePlan(store, {
        bytes: edited,
        file: 'credits.yaml',
        now: new Date(0),
        reuseApplied: false,
      });
      expect(inPart.source.path).toBe('edit');
      expect(inPart.plan).toEqual(inFull.plan);
      expect(inPart.plan.changes).toMatchObject([{ address: 'member.mover@acme.test', action: 'delete' }]);
    });

    it('the migration: such users already in the database stop the no-op shortcut of the last applied file', async () => {
      await reset();
      await signup('old@acme.test');
      await patch('old@acme.test', { allocation: '700' });
      // The database as the version before 010 left it: the edit of an undeclared user bumped nothing, so the
      // last apply's digest still stands for the live state.
      await store.query(
        'UPDATE accounts SET applied_declared_version = declared_version WHERE account_id = $1',
        [id],
      );
      expect((await plan(store, file())).source.path).toBe('unchanged');
      await store.query("DELETE FROM schema_migrations WHERE name = 'runtime_member_terms'");
      expect((await migrate(store)).applied).toEqual([expect.stringMatching(/_runtime_member_terms$/)]);
      expect(addresses(await plan(store, file()))).toEqual(['member.old@acme.test']);
    });

    it('a signup on the Default terms makes no change and keeps the no-op shortcut', async () => {
      await reset();
      const before = await declaredVersion();
      await signup('plain@acme.test');
      // An admin edit that leaves her on the Default terms is no change either.
      await patch('plain@acme.test', { allocation: null, extra: '0', group: 'default' });
      expect(await declaredVersion()).toBe(before);
      const p = await plan(store, file());
      expect(p.source.path).toBe('unchanged');
      expect(p.plan.changes).toEqual([]);
      expect((await plan(store, file() + '# the full path\n')).plan.changes).toEqual([]);
      expect(await exportYaml(store, id)).not.toContain('plain@acme.test');
    });
  },
);
