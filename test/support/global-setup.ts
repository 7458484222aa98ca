// vitest globalSetup: one throw-away PostgreSQL cluster for the whole run, unless DATABASE_URL points at one.
// Tests read its URL with inject('pgUrl') (or CREDITS_TEST_PG_URL in child processes) and make their own
// databases on it through test/support/databases.ts.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { freePort } from './serve-process.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}

export interface PgCluster {
  url: string;
  port: number;
  dataDir: string;
  /**
   * With a mode the server stops and can start() again: 'fast' (SIGINT) checkpoints, 'immediate' (SIGQUIT) is a
   * crash, so the next start runs recovery. Without a mode it stops for good and its files are deleted.
   */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts the server again on the same directory and port after stop(mode). */
  start(): Promise<void>;
}

const POSTGRES_ROOT = '/usr/lib/postgresql';
const READY_TIMEOUT_MS = 30_000;

/** The bin folder of the highest installed major version (Debian layout: /usr/lib/postgresql/<major>/bin). */
function serverBinaries(): string {
  const majors = existsSync(POSTGRES_ROOT)
    ? readdirSync(POSTGRES_ROOT).filter(
        (v) => /^\d+$/.test(v) && existsSync(join(POSTGRES_ROOT, v, 'bin', 'initdb')),
      )
    : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) {
    throw new Error(
      `no PostgreSQL server binaries in ${POSTGRES_ROOT}/<version>/bin: install postgresql, or set DATABASE_URL`,
    );
  }
  return join(POSTGRES_ROOT, newest, 'bin');
}

/** PostgreSQL refuses to run as root, so as root every server binary runs as the `postgres` OS user. */
function asServerUser(): {
  command: (bin: string, args: string[]) => [string, string[]];
  own: (dir: string) => void;
} {
  if (process.getuid?.() !== 0) return { command: (bin, args) => [bin, args], own: () => {} };
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  } catch {
    throw new Error(
      'running as root needs a `postgres` OS user for the test cluster (the postgresql package makes one)',
    );
  }
  return {
    command: (bin, args) => ['runuser', ['-u', 'postgres', '--', bin, ...args]],
    own: (dir) => chownSync(dir, uid, gid),
  };
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited with code ${child.exitCode}:\n${log()}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
      if (Date.now() > deadline)
        throw new Error(`postgres was not ready after ${READY_TIMEOUT_MS} ms:\n${log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The postmaster's own pid. Under runuser the child we spawned is runuser, which does not pass SIGINT on. */
function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface ClusterOptions {
  /** TCP connections need this password (scram-sha-256); the URL carries it. Default: trust. */
  password?: string;
  /** More `-c name=value` settings for the server. */
  settings?: string[];
  /** Runs after initdb with the data directory (e.g. to place server.crt and server.key). */
  prepare?: (dataDir: string, own: (path: string) => void) => void;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<PgCluster> {
  const bin = serverBinaries();
  const user = asServerUser();
  const base = mkdtempSync(join(tmpdir(), 'credits-pg-'));
  const dataDir = join(base, 'data');
  const socketDir = join(base, 'sock');
  mkdirSync(dataDir, { mode: 0o700 });
  mkdirSync(socketDir);
  for (const dir of [base, dataDir, socketDir]) user.own(dir);

  const auth = ['-A', 'trust'];
  if (opts.password) {
    const pwfile = join(base, 'pwfile');
    writeFileSync(pwfile, opts.password + '\n');
    user.own(pwfile);
    auth.splice(0, 2, '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`);
  }
  const [initdb, initArgs] = user.command(join(bin, 'initdb'), [
    ...['-D', dataDir, ...auth, '-U', 'postgres', '--no-sync', '-E', 'UTF8'],
  ]);
  execFileSync(initdb, initArgs, { stdio: 'pipe' });
  opts.prepare?.(dataDir, user.own);

  const port = await freePort();
  const login = opts.password ? `postgres:${encodeURIComponent(opts.password)}` : 'postgres';
  const url = `postgres://${login}@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const [cmd, args] = user.command(join(bin, 'postgres'), [
      ...['-D', dataDir, '-p', String(port), '-k', socketDir],
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
      // fsync and full-page writes only protect against an OS crash, which a throw-away cluster never needs to
      // survive. synchronous_commit stays on: with it off, a stop('immediate') loses commits the client was
      // already told about, and crash tests would see their "before" state vanish.
      ...['-c', 'fsync=off', '-c', 'full_page_writes=off'],
      ...(opts.settings ?? []).flatMap((setting) => ['-c', setting]),
    ]);
    let log = '';
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000));
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    child = proc;
    await waitReady(url, proc, () => log);
  };

  const halt = async (mode: 'fast' | 'immediate'): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    const signal = mode === 'fast' ? 'SIGINT' : 'SIGQUIT';
    const pid = postmasterPid(dataDir);
    if (pid) process.kill(pid, signal);
    else proc.kill(signal);
    await exited;
  };

  // If vitest dies without teardown, do not leave a server running; exit handlers must be synchronous.
  const onExit = () => {
    const pid = postmasterPid(dataDir);
    if (pid && child?.exitCode === null) process.kill(pid, 'SIGQUIT');
  };
  process.once('exit', onExit);

  await start();
  return {
    url,
    port,
    dataDir,
    start,
    async stop(mode) {
      await halt(mode ?? 'fast');
      if (mode) return;
      process.removeListener('exit', onExit);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

let cluster: PgCluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  let url = process.env.DATABASE_URL;
  if (!url) {
    const started = Date.now();
    cluster = await startCluster();
    url = cluster.url;
    if (process.env.CREDITS_TEST_VERBOSE)
      console.log(`test PostgreSQL ready in ${Date.now() - started} ms: ${url}`);
  }
  process.env.CREDITS_TEST_PG_URL = url;
  project.provide('pgUrl', url);
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
  cluster = undefined;
}
