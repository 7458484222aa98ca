// Fresh, migrated databases for tests: a new PostgreSQL database per call on the harness server, or an
// in-memory PGlite. `storeKinds` runs one suite against both (Hono style). Everything is closed and dropped
// after the test file.
import { afterAll, inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPgStore } from '../../src/state/pg-store.js';
import { openPgliteStore } from '../../src/state/pglite-store.js';
import { migrate } from '../../src/state/migrate.js';
import type { Store } from '../../src/state/store.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';

/** The harness server's maintenance database (`postgres`), for CREATE/DROP DATABASE and raw access. */
export function adminUrl(): string {
  const url = inject('pgUrl') ?? process.env.CREDITS_TEST_PG_URL;
  if (!url)
    throw new Error(
      'no test PostgreSQL: run under vitest (test/support/global-setup.ts) or set DATABASE_URL',
    );
  return url;
}

/** The URL of the harness server with another database name. */
export function pgUrlFor(database: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${database}`;
  return url.toString();
}

const opened: Store[] = [];
const created: string[] = [];

afterAll(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close().catch(() => {})));
  const names = created.splice(0);
  if (names.length)
    await withAdmin(async (admin) => {
      // FORCE: a test may leave a child process or a raw client connected.
      for (const name of names)
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    });
});

async function withAdmin<T>(fn: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

/** Creates an empty database (not migrated), dropped after the test file; returns its URL. */
export async function freshPgUrl(): Promise<string> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${name}`));
  created.push(name);
  return pgUrlFor(name);
}

/** An unmigrated store on a brand-new database, e.g. to test migrate() itself. */
export async function emptyPgStore(opts: { max?: number } = {}): Promise<Store> {
  const store = createPgStore(await freshPgUrl(), { max: opts.max ?? 10, applicationName: 'credits-test' });
  opened.push(store);
  return store;
}

/**
 * A fresh, migrated database with `yaml` applied: its URL, for child processes (`credits serve`, the CLI),
 * and a store on it, closed after the test file.
 */
export async function pgWithConfig(yaml: string): Promise<{ url: string; store: Store }> {
  const url = await freshPgUrl();
  const store = createPgStore(url, { applicationName: 'credits-test' });
  opened.push(store);
  await migrate(store);
  await applyPlan(store, await makePlan(store, { bytes: yaml, file: 'credits.yaml' }), { actor: 'test' });
  return { url, store };
}

export async function freshPgStore(opts: { max?: number } = {}): Promise<Store> {
  const store = await emptyPgStore(opts);
  await migrate(store);
  return store;
}

// Starting PGlite from a dump of an already migrated database skips initdb: ~0.6 s instead of ~2 s a store.
let pgliteTemplate: Promise<Blob> | undefined;

async function migratedPgliteDump(): Promise<Blob> {
  const store = await openPgliteStore(undefined);
  try {
    await migrate(store);
    return await store.dumpDataDir('none');
  } finally {
    await store.close();
  }
}

/** An unmigrated in-memory PGlite store. */
export async function emptyPgliteStore(): Promise<Store> {
  const store = await openPgliteStore(undefined);
  opened.push(store);
  return store;
}

export async function freshPgliteStore(): Promise<Store> {
  pgliteTemplate ??= migratedPgliteDump().catch((err: unknown) => {
    pgliteTemplate = undefined;
    throw err;
  });
  const store = await openPgliteStore(undefined, { loadDataDir: await pgliteTemplate });
  opened.push(store);
  // A no-op on the template; it keeps the "fresh stores are migrated" promise even if the template is stale.
  await migrate(store);
  return store;
}

export const storeKinds = [
  ['postgres', freshPgStore],
  ['pglite', freshPgliteStore],
] as const;
