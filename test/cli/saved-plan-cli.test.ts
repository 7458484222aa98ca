// `credits apply plan.json` as a user runs it (a child process of bin/credits.js, built dist/): every tamper
// of a saved plan is refused with its code and a hint, exit 1, and writes nothing; a plan made on another
// database is refused; the reviewed plan still applies. Embedded PGlite in a temp dir, and PostgreSQL. Each
// PGlite process opens its database anew, hence the long timeouts on a loaded machine.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freshPgUrl } from '../support/databases.js';
import { APPLIED, configFile, REVIEWED, snapshot, TAMPERS, tampered } from '../support/saved-plan.js';
import { createPgStore } from '../../src/state/pg-store.js';
import { openPgliteStore } from '../../src/state/pglite-store.js';

const bin = resolve('bin/credits.js');

/** Runs the CLI without blocking the test worker (a PGlite process takes seconds to start). */
function credits(cwd: string, args: string[], env: Record<string, string | undefined>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd,
      env: { ...process.env, CI: 'true', NO_COLOR: '1', DATABASE_URL: undefined, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

interface Db {
  env: Record<string, string>;
  /** Everything an apply may write, read while no CLI process runs. */
  snapshot(): Promise<unknown>;
}

async function pgliteDb(dir: string): Promise<Db> {
  return {
    env: {},
    snapshot: async () => {
      const store = await openPgliteStore(join(dir, '.credits/db'));
      try {
        return await snapshot(store);
      } finally {
        await store.close();
      }
    },
  };
}

async function postgresDb(): Promise<Db> {
  const url = await freshPgUrl();
  return {
    env: { DATABASE_URL: url },
    snapshot: async () => {
      const store = createPgStore(url, { applicationName: 'credits-test' });
      try {
        return await snapshot(store);
      } finally {
        await store.close();
      }
    },
  };
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'credits-saved-plan-'));

describe.each([
  ['pglite', pgliteDb],
  ['postgres', postgresDb],
] as const)('credits apply plan.json on %s', (_kind, dbFor) => {
  it('refuses every tamper with its code and a hint, writing nothing; the reviewed plan applies', async () => {
    const dir = tempDir();
    const db = await dbFor(dir);
    writeFileSync(join(dir, 'credits.yaml'), APPLIED);
    expect((await credits(dir, ['apply', '--auto-approve'], db.env)).code).toBe(0);
    writeFileSync(join(dir, 'credits.yaml'), REVIEWED);
    expect((await credits(dir, ['plan', '--out', 'plan.json'], db.env)).code).toBe(0);
    const text = readFileSync(join(dir, 'plan.json'), 'utf8');
    const before = await db.snapshot();

    for (const [what, edit, code] of TAMPERS) {
      writeFileSync(join(dir, 'tampered.json'), tampered(text, edit));
      const r = await credits(dir, ['apply', 'tampered.json'], db.env);
      expect(r.code, what).toBe(1);
      expect(r.stdout, what).not.toMatch(/Apply complete/);
      expect(r.stderr, what).toMatch(new RegExp(`^${code} {2}.+\\n {2}hint: .+`, 'm'));
      expect(r.stderr, what).not.toMatch(/at .*\.js:\d+/);
      if (code === 'PLAN_INVALID') expect(r.stderr).toMatch(/unknown address typo\.allocation/);
    }
    expect(await db.snapshot()).toEqual(before);
    // The tamper is not invisible afterwards: the reviewed file still plans its one change.
    expect((await credits(dir, ['plan', '--detailed-exitcode'], db.env)).code).toBe(2);

    const applied = await credits(dir, ['apply', 'plan.json'], db.env);
    expect(applied.stdout).toMatch(/Apply complete: 1 change to account acme; state serial 2\./);
    expect((await credits(dir, ['plan', '--detailed-exitcode'], db.env)).code).toBe(0);
  }, 300_000);

  it('refuses a plan made on another database with the same account at the same serial', async () => {
    const [dirA, dirB] = [tempDir(), tempDir()];
    const [a, b] = [await dbFor(dirA), await dbFor(dirB)];
    writeFileSync(join(dirA, 'credits.yaml'), APPLIED);
    expect((await credits(dirA, ['apply', '--auto-approve'], a.env)).code).toBe(0);
    writeFileSync(join(dirA, 'credits.yaml'), REVIEWED);
    expect((await credits(dirA, ['plan', '--out', 'plan.json'], a.env)).code).toBe(0);
    // B: acme at serial 1 too, with a member the file does not hold.
    writeFileSync(join(dirB, 'credits.yaml'), configFile(200, '      carol@x.corp.group: 5\n'));
    expect((await credits(dirB, ['apply', '--auto-approve'], b.env)).code).toBe(0);
    const before = await b.snapshot();

    const r = await credits(dirB, ['apply', join(dirA, 'plan.json')], b.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^PLAN_WRONG_DATABASE {2}plan was made on database [0-9a-f-]{36}, not on this one/m,
    );
    expect(r.stderr).toMatch(/hint: /);
    expect(await b.snapshot()).toEqual(before);
    expect((await credits(dirB, ['plan', '--detailed-exitcode'], b.env)).code).toBe(0);
  }, 300_000);
});
