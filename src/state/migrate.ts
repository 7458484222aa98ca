// Applies the SQL files in migrations/ in order, each in its own transaction under an advisory lock, and
// records them in schema_migrations; safe when several processes migrate at once.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Store } from './store.js';

const MIGRATION_LOCK = 7_270_411; // arbitrary constant shared by every credits process
const dir = fileURLToPath(new URL('./migrations/', import.meta.url));

interface Migration {
  version: number;
  name: string;
  file: string;
}

export function listMigrations(): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_.+\.sql$/.test(f))
    .sort()
    .map((file) => ({ version: Number(file.slice(0, 3)), name: file.slice(4, -4), file }));
}

async function appliedVersions(store: Store): Promise<Set<number>> {
  const { rows } = await store.transaction(async (tx) => {
    // Under the lock: two processes creating the table at once would otherwise race in the catalog.
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    return tx.query<{ version: number }>('SELECT version FROM schema_migrations');
  });
  return new Set(rows.map((r) => Number(r.version)));
}

export async function schemaStatus(store: Store): Promise<{ current: number; expected: number }> {
  const applied = await appliedVersions(store);
  const expected = Math.max(0, ...listMigrations().map((m) => m.version));
  return { current: Math.max(0, ...applied), expected };
}

export async function migrate(store: Store): Promise<{ from: number; to: number; applied: string[] }> {
  const done = await appliedVersions(store);
  const from = Math.max(0, ...done);
  const pending = listMigrations().filter((m) => !done.has(m.version));
  const applied: string[] = [];
  for (const m of pending) {
    const sql = readFileSync(dir + m.file, 'utf8');
    const ran = await store.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      // Another process may have applied it while we waited for the lock.
      const again = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
      if (again.rowCount > 0) return false;
      await tx.query(sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      return true;
    });
    if (ran) applied.push(`${String(m.version).padStart(3, '0')}_${m.name}`);
  }
  const to = Math.max(from, ...pending.map((m) => m.version));
  return { from, to, applied };
}
