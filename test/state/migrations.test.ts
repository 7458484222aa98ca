// Migrations are checksummed (an applied migration that changed is refused, as Atlas's atlas.sum does), and
// docs/schema.sql is the current schema as pg_dump prints it after every migration: one place to read the
// tables and the current SQL of every ledger function. UPDATE_GOLDEN=1 rewrites it.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { emptyPgliteStore, emptyPgStore, freshPgUrl } from '../support/databases.js';
import { listMigrations, migrate } from '../../src/state/migrate.js';
import { createPgStore } from '../../src/state/pg-store.js';
import type { Store } from '../../src/state/store.js';

const kinds = [
  ['postgres', () => emptyPgStore()],
  ['pglite', () => emptyPgliteStore()],
] as const;

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: { code?: string; message?: string }) => e,
  );

describe.each(kinds)('migration checksums on %s', (_kind, emptyStore) => {
  it('records each migration’s checksum, and refuses to run when an applied migration changed', async () => {
    const store: Store = await emptyStore();
    await migrate(store);
    const { rows } = await store.query<{ version: number; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations ORDER BY version',
    );
    expect(rows).toEqual(listMigrations().map((m) => ({ version: m.version, checksum: m.checksum })));
    expect(rows[0]?.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);

    // As if 003's file had been edited after this database applied it.
    await store.query("UPDATE schema_migrations SET checksum = 'sha256:edited' WHERE version = 3");
    const refused = await errorOf(migrate(store));
    expect(refused).toMatchObject({ code: 'MIGRATION_MODIFIED' });
    expect(refused?.message).toMatch(/003_ledger_functions\.sql/);

    // A history from before checksums adopts the files' checksums once.
    await store.query('UPDATE schema_migrations SET checksum = NULL');
    await migrate(store);
    const adopted = await store.query<{ n: string }>(
      'SELECT count(*) AS n FROM schema_migrations WHERE checksum IS NOT NULL',
    );
    expect(Number(adopted.rows[0]?.n)).toBe(rows.length);
  });
});

/** pg_dump's binary from the same installation the harness uses. */
function pgDump(): string {
  const root = '/usr/lib/postgresql';
  const major = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'pg_dump')))
    .sort((a, b) => Number(b) - Number(a))[0];
  return join(root, major ?? '', 'bin', 'pg_dump');
}

describe('docs/schema.sql', () => {
  it('is the schema that the migrations make (UPDATE_GOLDEN=1 rewrites it)', async () => {
    const url = await freshPgUrl();
    const store = createPgStore(url);
    try {
      await migrate(store);
    } finally {
      await store.close();
    }
    const dump = execFileSync(pgDump(), ['--schema-only', '--no-owner', '--no-privileges', url], {
      encoding: 'utf8',
    });
    // Version lines and session settings vary by installation; the schema does not.
    const schema =
      '-- GENERATED from src/state/migrations by test/state/migrations.test.ts (UPDATE_GOLDEN=1). Do not edit.\n' +
      '-- The current schema: tables, indexes, triggers and the current SQL of every function.\n\n' +
      dump
        .split('\n')
        .filter(
          (line) => !/^-- Dumped (from|by)|^SET |^SELECT pg_catalog\.set_config|^\\(un)?restrict /.test(line),
        )
        .join('\n')
        .replace(/\n{3,}/g, '\n\n')
        .trim() +
      '\n';
    const path = 'docs/schema.sql';
    if (process.env.UPDATE_GOLDEN) writeFileSync(path, schema);
    expect(existsSync(path), `${path} is missing: run with UPDATE_GOLDEN=1`).toBe(true);
    expect(schema, `${path} is stale: run this test with UPDATE_GOLDEN=1`).toBe(readFileSync(path, 'utf8'));
  });
});
