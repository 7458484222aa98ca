// With its PostgreSQL stopped, `credits serve` answers 503 DATABASE_UNAVAILABLE and nothing of the driver's
// words: no socket error code, no address or port. When the database is back, so is the API.
import { afterAll, describe, expect, it } from 'vitest';
import { startCluster, type PgCluster } from '../support/global-setup.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { createPgStore } from '../../src/state/pg-store.js';
import { migrate } from '../../src/state/migrate.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { createToken } from '../../src/state/tokens.js';

const config = `version: 1
account:
  id: down
  creditLimit: 100
groups:
  default:
    allocation: 10
    members:
      alice@down.test: 5
`;

let cluster: PgCluster | undefined;
let serve: ServeProcess | undefined;
afterAll(async () => {
  serve?.child.kill('SIGTERM');
  await serve?.exited;
  await cluster?.stop();
});

describe('API with the database down', () => {
  it('answers 503 DATABASE_UNAVAILABLE without internals, and recovers', async () => {
    cluster = await startCluster();
    const store = createPgStore(cluster.url);
    await migrate(store);
    await applyPlan(store, await makePlan(store, { bytes: config, file: 'down.yaml' }), { actor: 'test' });
    const admin = (await createToken(store, { accountId: 'down', role: 'admin' })).token;
    const service = (await createToken(store, { accountId: 'down', role: 'service' })).token;
    await store.close();
    serve = await startServeProcess(cluster.url);
    const call = async (method: string, path: string, token?: string, body?: unknown) => {
      const res = await fetch(serve!.base + path, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, text: await res.text() };
    };
    expect((await call('GET', '/v1/overview', admin)).status).toBe(200);

    await cluster.stop('fast');
    const answers = [
      await call('GET', '/v1/overview', admin), // token remembered: the query fails
      await call('GET', '/v1/members/alice@down.test', service), // the token lookup fails
      await call('POST', '/v1/usage', admin, { member: 'alice@down.test', credits: '1' }),
      await call('GET', '/readyz'),
    ];
    for (const a of answers) {
      expect(a.status, a.text).toBe(503);
      expect(JSON.parse(a.text).error).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
      expect(a.text).not.toMatch(/ECONN|127\.0\.0\.1|localhost|postgres/i);
      expect(a.text).not.toContain(String(cluster.port));
    }

    await cluster.start();
    let back = 0;
    for (let i = 0; i < 50 && back !== 200; i++) {
      back = (await call('GET', '/v1/overview', admin)).status;
      if (back !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(back).toBe(200);
  });
});
