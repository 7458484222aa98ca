// Idempotency keys are answered for at least 24 h and then purged in batches; the signup-once guarantee
// does not depend on them. Both stores, plus the CLI command on PostgreSQL.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pgWithConfig, storeKinds } from '../support/databases.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { recordUsage } from '../../src/ledger/usage.js';
import { signup } from '../../src/ledger/signup.js';
import { KEY_RETENTION_MS, purgeIdempotencyKeys } from '../../src/ledger/idempotency.js';
import type { Store } from '../../src/state/store.js';

const config = `version: 1
account:
  id: keep
  creditLimit: 1000
  creditFactor: 1
  signupCredits: 5
groups:
  default:
    allocation: 500
    members:
      a@keep.test: 100
`;

const apply = async (store: Store) =>
  applyPlan(store, await makePlan(store, { bytes: config, file: 'keep.yaml' }), { actor: 't' });
const use = (store: Store, key: string) =>
  recordUsage(store, { accountId: 'keep', member: 'a@keep.test', credits: '1', idempotencyKey: key });
const keys = async (store: Store) =>
  (
    await store.query<{ idem_key: string }>(
      "SELECT idem_key FROM idempotency_keys WHERE account_id = 'keep' ORDER BY idem_key",
    )
  ).rows.map((r) => r.idem_key);
const age = (store: Store, pattern: string, hours: number) =>
  store.query(
    `UPDATE idempotency_keys SET created_at = now() - make_interval(hours => $2)
      WHERE account_id = 'keep' AND idem_key LIKE $1`,
    ['%' + pattern + '%', hours],
  );
const cutoff = () => new Date(Date.now() - KEY_RETENTION_MS);

describe.each(storeKinds)('idempotency key retention on %s', (_kind, freshStore) => {
  it('purges keys older than 24 h in batches, keeps newer ones and their replays', async () => {
    const store = await freshStore();
    await apply(store);
    const old1 = await use(store, 'old-1');
    await use(store, 'old-2');
    const fresh = await use(store, 'new-1');
    // A claim of the earlier claim-then-act scheme whose process died (no answer).
    await store.query(
      "INSERT INTO idempotency_keys (account_id, idem_key, request_hash) VALUES ('keep', 'http:/v1/users:stale-claim', 'h')",
    );
    const all = await keys(store);
    expect(all).toHaveLength(4);
    await age(store, 'old-', 25);
    await age(store, 'stale-claim', 48);
    await age(store, 'new-', 23);

    expect(await purgeIdempotencyKeys(store, cutoff(), 1)).toBe(3); // one row per batch: the loop runs
    expect((await keys(store)).every((k) => k.includes('new-1'))).toBe(true);
    expect(await keys(store)).toHaveLength(1);
    expect(await purgeIdempotencyKeys(store, cutoff())).toBe(0);

    // A kept key still replays; a purged one is a new event, as documented.
    expect(await use(store, 'new-1')).toEqual(fresh);
    const again = await use(store, 'old-1');
    expect(again.id).not.toBe(old1.id);
  });

  it('signup credits stay once-only when every key has been purged', async () => {
    const store = await freshStore();
    await apply(store);
    expect((await signup(store, { accountId: 'keep', email: 'new@keep.test' })).created).toBe(true);
    await store.query("UPDATE idempotency_keys SET created_at = now() - interval '30 days'");
    await purgeIdempotencyKeys(store, cutoff());
    await signup(store, { accountId: 'keep', email: 'new@keep.test' });
    const grants = await store.query(
      "SELECT 1 FROM ledger_entries WHERE account_id = 'keep' AND member_email = 'new@keep.test' AND kind = 'signup-grant'",
    );
    expect(grants.rowCount).toBe(1);
  });
});

describe('credits purge-keys', () => {
  it('purges past the retention, and refuses a retention under 24 h', async () => {
    const { url, store } = await pgWithConfig(config);
    await use(store, 'old-1');
    await use(store, 'new-1');
    await age(store, 'old-', 24 * 8);
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [resolve('bin/credits.js'), 'purge-keys', ...args], {
        encoding: 'utf8',
        env: { ...process.env, DATABASE_URL: url, CI: 'true' },
      });
    const refused = run('--older-than', '1h');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/VALIDATION_FAILED .*at least 24h/);
    expect(await keys(store)).toHaveLength(2);
    const kept = run('--older-than', '9d');
    expect(kept.stdout).toMatch(/^purged 0 idempotency keys created before /);
    const done = run('--older-than', '7d');
    expect(done.status).toBe(0);
    expect(done.stdout).toMatch(/^purged 1 idempotency keys created before /);
    expect((await keys(store)).map((k) => k.includes('new-1'))).toEqual([true]);
  });
});
