// Fresh databases for tests: a new PostgreSQL database per call on the harness server, or in-memory PGlite,
// both migrated. `storeKinds` runs one suite against both (Hono style).
import { afterAll, inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPgStore } from '../../src/state/pg-store.js';
import { openPgliteStore } from '../../src/state/pglite-store.js';
import { migrate } from '../../src/state/migrate.js';
import type { Store } from '../../src/state/store.js';

export const adminUrl = (): string => inject('pgUrl');

/** The URL of the harness server with another database name. */
export function pgUrlFor(database: string): string {
  const u = new URL(adminUrl());
  u.pathname = `/${database}`;
  return u.toString();
}

const opened: Store[] = [];
afterAll(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close().catch(() => {})));
});

/** Creates an empty database (not migrated) and returns its URL. */
export async function freshPgUrl(): Promise<string> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return pgUrlFor(name);
}

export async function freshPgStore(opts: { max?: number } = {}): Promise<Store> {
  const store = createPgStore(await freshPgUrl(), { max: opts.max ?? 10 });
  opened.push(store);
  await migrate(store);
  return store;
}

export async function freshPgliteStore(): Promise<Store> {
  const store = await openPgliteStore(undefined);
  opened.push(store);
  await migrate(store);
  return store;
}

export const storeKinds = [
  ['postgres', freshPgStore],
  ['pglite', freshPgliteStore],
] as const;
