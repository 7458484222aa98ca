// The CLI and `credits serve` as real child processes on an embedded data directory (no DATABASE_URL), for
// tests of who owns the directory. Asynchronous, so several can run at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './serve-process.js';

const bin = resolve('bin/credits.js');

export const childEnv = (env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  CI: 'true',
  NO_COLOR: '1',
  DATABASE_URL: undefined,
  CREDITS_DATA_DIR: undefined,
  CREDITS_LOG: 'off',
  ...env,
});

/** A temp directory holding a copy of the repository's credits.yaml (account acme). */
export function projectDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'credits-owner-'));
  cpSync(resolve('credits.yaml'), join(dir, 'credits.yaml'));
  return dir;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `credits args…` in `cwd` to its end (killed after `timeoutMs`, so a hang fails, not stalls). */
export function credits(
  cwd: string,
  args: string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 120_000,
): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd,
      env: childEnv(env),
      stdio: 'pipe',
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.stdin.end();
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

export interface Served {
  base: string;
  port: number;
  child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
}

/** Starts `credits serve` in `cwd` (embedded database there); `up` resolves once /healthz answers. */
export function spawnServe(cwd: string, port: number): Served & { up: Promise<boolean> } {
  const child = spawn(process.execPath, [bin, 'serve', '--port', String(port)], {
    cwd,
    env: childEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const base = `http://127.0.0.1:${port}`;
  const up = (async () => {
    for (let i = 0; i < 600; i++) {
      if (child.exitCode !== null || child.signalCode !== null) return false;
      try {
        if ((await fetch(`${base}/healthz`)).ok) return true;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  })();
  return { base, port, child, stderr: () => err, exited, up };
}

export async function startServe(cwd: string): Promise<Served> {
  const served = spawnServe(cwd, await freePort());
  if (!(await served.up)) {
    served.child.kill('SIGKILL');
    throw new Error(`credits serve did not start: ${served.stderr()}`);
  }
  return served;
}

/** SIGTERM, and the exit code once it has shut down. */
export async function stopServe(served: Served): Promise<number | null> {
  if (served.child.exitCode === null && served.child.signalCode === null) served.child.kill('SIGTERM');
  return served.exited;
}

export const get = async (base: string, path: string, token: string) => {
  const res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
