// The examples that broke `credits export`, one by one, and the API edits that could make a state no
// credits.yaml can hold: each is refused with a coded error, or exported and planned to no changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { storeKinds } from '../support/databases.js';
import { buildServer } from '../../src/api/server.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { exportYaml } from '../../src/cli/commands/export.js';
import { createToken } from '../../src/state/tokens.js';
import type { Store } from '../../src/state/store.js';

const file = `version: 1
account:
  id: "007"
  name: "1e3"
  creditLimit: 100000
groups:
  "2024":
    name: "2024 "
    allocation: 1000
    members:
      "%ops@x.com": 10
  "0x10":
    name: "yes"
    allocation: 1000
  "1e3":
    name: "0x10"
    allocation: 1000
  "007":
    name: " 007"
    allocation: 1000
  default:
    allocation: 1000
`;

describe.each(storeKinds)(
  'export of odd strings, and API edits kept exportable, on %s',
  (_kind, freshStore) => {
    let store: Store;
    let app: FastifyInstance;
    let base: string;
    let admin: string;

    async function call(method: string, path: string, body: unknown) {
      const res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return {
        status: res.status,
        body: (await res.json()) as { changed?: number; error?: { code: string } },
      };
    }
    const planOf = async (text: string) =>
      (await makePlan(store, { bytes: text, file: 'x.yaml' })).plan.changes;

    beforeAll(async () => {
      store = await freshStore();
      await applyPlan(store, await makePlan(store, { bytes: file, file: 'credits.yaml' }), { actor: 't' });
      admin = (await createToken(store, { accountId: '007', role: 'admin' })).token;
      app = await buildServer({ store, rateLimit: 100_000 });
      base = await app.listen({ port: 0, host: '127.0.0.1' });
    });
    afterAll(async () => {
      await app?.close();
    });

    it('keys 2024, 1e3, 0x10, 007, names with a trailing space, %ops@x.com: exported, planned to no changes', async () => {
      expect((await call('POST', '/v1/users', { email: 'Percent%Ops@1e3.io' })).status).toBe(201);
      expect((await call('PATCH', '/v1/members/percent%25ops@1e3.io', { allocation: '5' })).status).toBe(200);
      expect((await call('PATCH', '/v1/groups/0x10', { name: 'off ' })).status).toBe(200);
      const exported = await exportYaml(store, '007');
      for (const line of [
        '  id: "007"',
        '  name: "1e3"',
        '  "2024":',
        '    name: "2024 "',
        '      "%ops@x.com": 10',
        '  "0x10":',
        '    name: "off "',
        '  "1e3":',
        '  "007":',
        '    name: " 007"',
        '      percent%ops@1e3.io: 5',
      ]) {
        expect(exported).toContain(`\n${line}\n`);
      }
      expect(await planOf(exported)).toEqual([]);
      expect(await planOf(exported + '# again\n')).toEqual([]);
    });

    it('a name that looks like a number is renamed like any other (no 500, no edit lost as "the same")', async () => {
      expect((await call('PATCH', '/v1/settings', { name: '2024' })).body).toEqual({ changed: 1 });
      expect((await call('PATCH', '/v1/settings', { name: '2024.0' })).body).toEqual({ changed: 1 });
      expect((await call('PATCH', '/v1/settings', { name: '...' })).body).toEqual({ changed: 1 });
      expect((await call('PATCH', '/v1/groups/2024', { name: '1.' })).body).toEqual({ changed: 1 });
      // Amounts still compare as numbers.
      expect((await call('PATCH', '/v1/groups/2024', { allocation: '1000.000' })).body).toEqual({
        changed: 0,
      });
      expect(await planOf(await exportYaml(store, '007'))).toEqual([]);
    });

    it('the Default group keeps its name: credits.yaml cannot name it', async () => {
      const renamed = await call('PATCH', '/v1/groups/default', { name: 'Everyone' });
      expect(renamed.status).toBe(400);
      expect(renamed.body.error).toMatchObject({ code: 'DEFAULT_GROUP_NAME' });
      expect((await call('PATCH', '/v1/groups/default', { name: 'Default' })).body).toEqual({ changed: 0 });
      expect(await planOf(await exportYaml(store, '007'))).toEqual([]);
    });

    it('a user whose e-mail credits.yaml cannot name gets no terms of its own', async () => {
      expect((await call('POST', '/v1/users', { email: 'walk-in@localhost' })).status).toBe(201);
      for (const patch of [{ allocation: '5' }, { extra: '1' }, { group: '2024' }]) {
        const refused = await call('PATCH', '/v1/members/walk-in@localhost', patch);
        expect(refused.status).toBe(409);
        expect(refused.body.error).toMatchObject({ code: 'EMAIL_NOT_DECLARABLE' });
      }
      expect((await call('PATCH', '/v1/members/walk-in@localhost', { allocation: null })).body).toEqual({
        changed: 0,
      });
      const exported = await exportYaml(store, '007');
      expect(exported).not.toContain('walk-in');
      expect(await planOf(exported)).toEqual([]);
    });
  },
);
