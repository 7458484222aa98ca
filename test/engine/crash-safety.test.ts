// Crash safety on PostgreSQL: `kill -9` of an apply in the middle of its transaction leaves all-old state.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
// @ts-expect-error -- plain ESM script without types
import { generate } from '../../bench/generate.mjs';
import { freshPgUrl } from '../support/databases.js';
import { startCluster } from '../support/global-setup.js';

const bin = resolve('bin/credits.js');

/** Starts `credits apply`, waits until it is writing members, then kills it with SIGKILL. */
function applyAndKill(dir: string, url: string, file: string): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [bin, 'apply', '-f', file, '--auto-approve'], {
      cwd: dir,
      env: { ...process.env, DATABASE_URL: url, CI: 'true' },
      stdio: ['ignore', 'ignore', 'pipe'], // the plan printed on stdout would fill an unread pipe
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/applying members/.test(stderr) && !child.killed) setTimeout(() => child.kill('SIGKILL'), 30);
    });
    child.on('exit', (code, signal) =>
      signal === 'SIGKILL' ? done(stderr) : fail(new Error(`exit ${code}: ${stderr}`)),
    );
  });
}

async function snapshot(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const q = async (sql: string) => (await client.query(sql)).rows;
    return {
      accounts: await q('SELECT account_id, state_serial::text, credit_limit::text FROM accounts ORDER BY 1'),
      groups: await q('SELECT count(*)::int AS n, coalesce(sum(allocation), 0)::text AS total FROM groups'),
      members: await q('SELECT count(*)::int AS n, coalesce(sum(allocation), 0)::text AS total FROM members'),
      audit: await q('SELECT count(*)::int AS n FROM audit_log'),
    };
  } finally {
    await client.end();
  }
}

describe('crash safety (PostgreSQL)', () => {
  it('kill -9 during the first apply leaves no account at all', async () => {
    const url = await freshPgUrl();
    const dir = mkdtempSync(join(tmpdir(), 'credits-crash-'));
    writeFileSync(join(dir, 'a.yaml'), generate({ members: 30_000, groups: 300, account: 'crash' }));
    await applyAndKill(dir, url, 'a.yaml');
    const after = await snapshot(url);
    expect(after.accounts).toEqual([]);
    expect(after.members[0]).toMatchObject({ n: 0 });
    expect(after.audit[0]).toMatchObject({ n: 0 });
  });

  it('kill -9 during an update leaves exactly the old state', async () => {
    const url = await freshPgUrl();
    const dir = mkdtempSync(join(tmpdir(), 'credits-crash-'));
    writeFileSync(join(dir, 'a.yaml'), generate({ members: 30_000, groups: 300, account: 'crash', seed: 1 }));
    writeFileSync(join(dir, 'b.yaml'), generate({ members: 30_000, groups: 300, account: 'crash', seed: 2 }));
    const first = spawn(process.execPath, [bin, 'apply', '-f', 'a.yaml', '--auto-approve'], {
      cwd: dir,
      env: { ...process.env, DATABASE_URL: url, CI: 'true' },
      stdio: 'ignore',
    });
    await new Promise((r) => first.on('exit', r));
    const before = await snapshot(url);
    expect(before.members[0]).toMatchObject({ n: 30_000 });
    await applyAndKill(dir, url, 'b.yaml');
    expect(await snapshot(url)).toEqual(before);
  });

  it('an immediate PostgreSQL stop during apply leaves exactly the old state after recovery', async () => {
    const cluster = await startCluster(); // its own server: stopping the shared one would break other tests
    try {
      const admin = new pg.Client({ connectionString: cluster.url });
      await admin.connect();
      await admin.query('CREATE DATABASE crash');
      await admin.end();
      const url = cluster.url.replace(/\/postgres$/, '/crash');
      const dir = mkdtempSync(join(tmpdir(), 'credits-crash-'));
      // Large enough that the apply is still writing when the stop lands.
      writeFileSync(
        join(dir, 'a.yaml'),
        generate({ members: 60_000, groups: 600, account: 'crash', seed: 1 }),
      );
      writeFileSync(
        join(dir, 'b.yaml'),
        generate({ members: 60_000, groups: 600, account: 'crash', seed: 3 }),
      );
      const env = { ...process.env, DATABASE_URL: url, CI: 'true' };
      const first = spawn(process.execPath, [bin, 'apply', '-f', 'a.yaml', '--auto-approve'], {
        cwd: dir,
        env,
        stdio: 'ignore',
      });
      await new Promise((r) => first.on('exit', r));
      const before = await snapshot(url);
      expect(before.members[0]).toMatchObject({ n: 60_000 });

      const child = spawn(process.execPath, [bin, 'apply', '-f', 'b.yaml', '--auto-approve'], {
        cwd: dir,
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      let stopping: Promise<void> | undefined;
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/applying members/.test(stderr) && !stopping) stopping = cluster.stop('immediate');
      });
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      await stopping;
      expect(code).toBe(1);
      expect(stderr).toMatch(/DATABASE_UNAVAILABLE|INTERNAL/);
      expect(stderr).not.toMatch(/postgres:\/\//); // no connection string (or password) in errors
      await cluster.start();
      expect(await snapshot(url)).toEqual(before);
    } finally {
      await cluster.stop();
    }
  });
});
