// `credits serve` as a real child process on a free loopback port, for tests that need a whole server
// process (several replicas, signals).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

export const freePort = (): Promise<number> =>
  new Promise((done, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });

export interface ServeProcess {
  base: string;
  child: ChildProcess;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
}

/** Starts `credits serve` against `databaseUrl` (plus `env` and `args`) and waits until /healthz answers. */
export async function startServeProcess(
  databaseUrl: string,
  env: Record<string, string> = {},
  args: string[] = [],
): Promise<ServeProcess> {
  const port = await freePort();
  const argv = [resolve('bin/credits.js'), 'serve', '--port', String(port), ...args];
  const child = spawn(process.execPath, argv, {
    env: { ...process.env, DATABASE_URL: databaseUrl, CREDITS_LOG: 'off', ...env },
    // With the log on (CREDITS_LOG in `env`), stdout is a pipe: the test reads the log lines from it.
    stdio: ['ignore', env.CREDITS_LOG && env.CREDITS_LOG !== 'off' ? 'pipe' : 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return { base, child, exited };
    } catch {
      /* not up yet */
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('credits serve did not start');
}
