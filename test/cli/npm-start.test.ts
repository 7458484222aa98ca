// `npm start` (scripts/start.mjs) as a real process in a project folder: it applies credits.yaml only when
// that undoes no dashboard edit, and keeps one admin token for the dashboard across starts.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '../support/serve-process.js';
import { childEnv, credits, get, projectDir } from '../support/cli-process.js';

const script = resolve('scripts/start.mjs');
const running: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) {
    if (c.exitCode === null) {
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  base: string;
  token: string;
  stdout: string;
}

/** Runs `npm start` in `cwd` until it prints the dashboard URL. */
async function npmStart(cwd: string, port: number): Promise<Started> {
  const child = spawn(process.execPath, [script, '--port', String(port)], {
    cwd,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const url = await new Promise<string>((done, fail) => {
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      const m = /dashboard: (\S+)\n/.exec(stdout);
      if (m) done(m[1]!);
    });
    child.once('exit', (code) => fail(new Error(`npm start exited ${code}: ${stdout}${stderr}`)));
  });
  const [base, token] = url.split('/#token=') as [string, string];
  return { child, base, token, stdout };
}

async function stop(started: Started): Promise<void> {
  const exited = new Promise((r) => started.child.once('exit', r));
  started.child.kill('SIGTERM');
  await exited;
}

describe('npm start', () => {
  it('keeps a dashboard edit and its dashboard token across restarts; a revoked token is replaced', async () => {
    const dir = projectDir();
    dirs.push(dir);
    const port = await freePort();

    const first = await npmStart(dir, port);
    expect(first.stdout).toMatch(/Apply complete: \d+ changes to account acme/);
    const edit = await fetch(`${first.base}/v1/settings`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ creditLimit: '120000' }),
    });
    expect(edit.status).toBe(200);
    await stop(first);
    const kept = join(dir, '.credits/db.dashboard-token');
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    expect(readFileSync(kept, 'utf8')).toContain(first.token);

    const second = await npmStart(dir, port);
    expect(second.stdout).not.toMatch(/Apply complete/);
    expect(second.stdout).toContain(
      '1 value was changed outside credits.yaml; `npx credits plan` shows it, `npx credits apply` sets it back',
    );
    expect(second.token).toBe(first.token);
    expect((await get(second.base, '/v1/overview', second.token)).body.creditLimit).toBe('120000');

    // Revoked (through the running server), the next start makes a new one; the CLI lists it.
    const prefix = first.token.slice(0, 10);
    const revoked = await credits(dir, ['token', 'revoke', '--account', 'acme', prefix]);
    expect(revoked.stderr).toBe('');
    await stop(second);
    const third = await npmStart(dir, port);
    expect(third.token).not.toBe(first.token);
    expect((await get(third.base, '/v1/overview', third.token)).status).toBe(200);
    const list = await credits(dir, ['token', 'list', '--account', 'acme']);
    expect(list.stdout).toContain(`${third.token.slice(0, 10)}`);
    await stop(third);
  }, 240_000);
});
