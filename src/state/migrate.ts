// Applies the SQL files in migrations/ in order, each in its own transaction under an advisory lock, and
// records them in schema_migrations; safe when several processes migrate at once.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CreditsError, isCreditsError } from '../errors.js';
import type { Queryable, Store } from './store.js';

/** Arbitrary, shared by every credits process; only has to differ from the other locks we take. */
const MIGRATION_LOCK = 7_270_411;
// src/state/migrations under vitest and tsx, dist/state/migrations once built (scripts/build.mjs copies it).
const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  version: number;
  /** `initial` for 001_initial.sql. */
  name: string;
  file: string;
  /** sha256 of the file's bytes; recorded when applied, and an applied migration may never change. */
  checksum: string;
}

export const migrationChecksum = (bytes: Buffer | string): string =>
  'sha256:' + createHash('sha256').update(bytes).digest('hex');

export function listMigrations(): Migration[] {
  const migrations = readdirSync(migrationsDir)
    .filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 3)),
      name: file.slice(4, -4),
      file,
      checksum: migrationChecksum(readFileSync(migrationsDir + file)),
    }));
  const twice = migrations.find((m, i) => i > 0 && migrations[i - 1]?.version === m.version);
  if (twice) {
    throw new CreditsError('DATABASE_ERROR', { reason: `two migrations share version ${twice.version}` });
  }
  return migrations;
}

const highest = (versions: Iterable<number>): number => Math.max(0, ...versions);

async function lock(tx: Queryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
}

/**
 * Creates the migration history (schema_migrations) if needed, checks that no applied migration's file has
 * changed since it was applied, and returns the versions it holds. Histories from before checksums were
 * recorded adopt the files' checksums once.
 */
async function ensureMigrationHistory(store: Store, migrations: Migration[]): Promise<Set<number>> {
  return store.transaction(async (tx) => {
    // Under the lock: two processes creating the table at once would otherwise collide in the catalog.
    await lock(tx);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
       ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text`,
    );
    const { rows } = await tx.query<{ version: number; checksum: string | null }>(
      'SELECT version, checksum FROM schema_migrations',
    );
    const files = new Map(migrations.map((m) => [m.version, m]));
    for (const row of rows) {
      const m = files.get(row.version);
      if (!m) continue; // applied by a newer credits; its own checks cover it
      if (row.checksum === null) {
        await tx.query('UPDATE schema_migrations SET checksum = $2 WHERE version = $1', [
          m.version,
          m.checksum,
        ]);
      } else if (row.checksum !== m.checksum) {
        throw new CreditsError('MIGRATION_MODIFIED', { file: m.file });
      }
    }
    return new Set(rows.map((r) => r.version));
  });
}

/** Reads only: a status check must work for a read-only role and must not create tables. */
export async function schemaStatus(store: Store): Promise<{ current: number; expected: number }> {
  const expected = highest(listMigrations().map((m) => m.version));
  const { rows } = await store.query<{ present: boolean }>(
    "SELECT to_regclass('schema_migrations') IS NOT NULL AS present",
  );
  if (!rows[0]?.present) return { current: 0, expected };
  const applied = await store.query<{ current: number | null }>(
    'SELECT max(version) AS current FROM schema_migrations',
  );
  return { current: applied.rows[0]?.current ?? 0, expected };
}

/** Runs one migration unless another process applied it while we waited; true when this call applied it. */
async function applyOne(store: Store, m: Migration): Promise<boolean> {
  const sql = readFileSync(migrationsDir + m.file, 'utf8');
  try {
    return await store.transaction(async (tx) => {
      await lock(tx);
      const again = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
      if (again.rowCount > 0) return false;
      // No parameters: both drivers run it as a multi-statement script.
      await tx.query(sql);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        m.checksum,
      ]);
      return true;
    });
  } catch (err) {
    if (isCreditsError(err)) throw err;
    const reason = `migration ${m.file} failed: ${err instanceof Error ? err.message : String(err)}`;
    throw new CreditsError('DATABASE_ERROR', { reason }, { cause: err });
  }
}

export async function migrate(store: Store): Promise<{ from: number; to: number; applied: string[] }> {
  const migrations = listMigrations();
  const done = await ensureMigrationHistory(store, migrations);
  const from = highest(done);
  const applied: string[] = [];
  for (const m of migrations.filter((m) => !done.has(m.version))) {
    if (await applyOne(store, m)) applied.push(m.file.slice(0, -4));
  }
  const { current } = await schemaStatus(store);
  return { from, to: current, applied };
}
