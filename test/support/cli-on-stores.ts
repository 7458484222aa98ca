// The CLI as a child process against a database a test prepared through the library: PostgreSQL (a fresh
// database, passed as DATABASE_URL) or the embedded database (a PGlite folder, passed as CREDITS_DATA_DIR).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freshPgUrl } from './databases.js';
import { createPgStore } from '../../src/state/pg-store.js';
import { openPgliteStore } from '../../src/state/pglite-store.js';
import type { Store } from '../../src/state/store.js';

export type CliEnv = Record<string, string | undefined>;

/** `credits <args>` awaited (a synchronous spawn would block the test worker for its whole run). */
export function runCli(
  cwd: string,
  args: string[],
  env: CliEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [resolve('bin/credits.js'), ...args], {
      cwd,
      env: { ...process.env, CI: 'true', NO_COLOR: '1', DATABASE_URL: undefined, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** For describe.each: each store kind, prepared by `prepare` through the library, then closed for the CLI. */
export const cliStoreTargets = (prepare: (store: Store) => Promise<void>) =>
  [
    [
      'postgres',
      async (): Promise<CliEnv> => {
        const url = await freshPgUrl();
        const store = createPgStore(url);
        await prepare(store);
        await store.close();
        return { DATABASE_URL: url };
      },
    ],
    [
      'pglite',
      async (): Promise<CliEnv> => {
        const dir = join(mkdtempSync(join(tmpdir(), 'credits-cli-store-')), 'db');
        const store = await openPgliteStore(dir);
        await prepare(store);
        await store.close();
        return { CREDITS_DATA_DIR: dir };
      },
    ],
  ] as const;
