// `npm start`: build if needed, serve the API and dashboard, then — through the running server, which owns the
// embedded database — apply credits.yaml only when that undoes nothing, and print the dashboard URL with the
// one admin token kept for the local dashboard (token in the fragment, which browsers never send).
// Works in the current directory (npm runs scripts from the package root): credits.yaml and .credits/ there.
import { spawnSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const node = process.execPath;
const cli = join(root, 'bin/credits.js');
const config = 'credits.yaml';
/** Beside the embedded database: the dashboard's admin token, kept across starts (mode 0600). */
const tokenFile = `${process.env.CREDITS_DATA_DIR ?? '.credits/db'}.dashboard-token`;

let server;
class Stopped extends Error {}
const stop = (code) => {
  if (server && server.exitCode === null) {
    server.once('exit', () => process.exit(code));
    server.kill('SIGTERM');
  } else process.exit(code);
};
/** Runs the CLI; `capture` keeps stdout, 'quiet' keeps stderr too and shows it only if the command fails. */
const run = (args, capture = false) => {
  const r = spawnSync(node, args, {
    stdio: capture ? ['ignore', 'pipe', capture === 'quiet' ? 'pipe' : 'inherit'] : 'inherit',
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    if (capture === 'quiet') process.stderr.write(r.stdout + r.stderr);
    stop(r.status ?? 1);
    throw new Stopped();
  }
  return r.stdout;
};

/** The value of `--name value` or `--name=value` among the serve arguments, else the serve default. */
const option = (args, name, fallback) => {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}` && args[i + 1]) return args[i + 1];
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return fallback;
};

if (!existsSync(join(root, 'dist/cli/main.js'))) {
  const built = spawnSync(node, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

const serveArgs = process.argv.slice(2);
const host = option(serveArgs, 'host', '127.0.0.1');
const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
const port = option(serveArgs, 'port', '3000');
const base = `http://${shown}:${port}`;

server = spawn(node, [cli, 'serve', ...serveArgs], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
server.on('exit', (code) => process.exit(code ?? 0));

/** Waits until the server answers; it owns the database from then on and the CLI goes through it. */
async function serverUp() {
  for (let i = 0; i < 1200; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.stderr.write(`npm start: the server did not answer at ${base}/healthz\n`);
  stop(1);
  throw new Stopped();
}

/** Applies credits.yaml when that changes only what the file itself changed; else says what differs. */
function applyIfNothingIsUndone() {
  const dir = mkdtempSync(join(tmpdir(), 'credits-start-'));
  const planFile = join(dir, 'plan.json');
  try {
    run([cli, 'plan', '-f', config, '--out', planFile], 'quiet');
    const plan = JSON.parse(readFileSync(planFile, 'utf8'));
    if (plan.changes.length === 0) return;
    const drifted = plan.changes.filter((c) => c.drift).length;
    if (drifted === 0) {
      run([cli, 'apply', planFile, '-f', config, '--actor', 'npm-start']);
      return;
    }
    const values = drifted === 1 ? '1 value was' : `${drifted} values were`;
    const them = drifted === 1 ? 'it' : 'them';
    process.stdout.write(
      `${values} changed outside ${config}; \`npx credits plan\` shows ${them}, \`npx credits apply\` sets ${them} back. ` +
        `Serving the live state as it is.\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The kept dashboard token if it still opens the account's admin API, else a new one (kept from now on). */
async function dashboardToken(account) {
  try {
    const kept = JSON.parse(readFileSync(tokenFile, 'utf8'));
    if (kept.account === account && typeof kept.token === 'string') {
      const res = await fetch(`${base}/v1/overview`, { headers: { authorization: `Bearer ${kept.token}` } });
      if (res.status !== 401 && res.status !== 403) return kept.token;
    }
  } catch {
    /* none kept yet, or unreadable: make one */
  }
  const token = run([cli, 'token', 'create', '--account', account, '--role', 'admin'], true).trim();
  mkdirSync(dirname(tokenFile), { recursive: true });
  writeFileSync(tokenFile, JSON.stringify({ account, token }) + '\n', { mode: 0o600 });
  chmodSync(tokenFile, 0o600); // an existing file keeps its mode on write
  return token;
}

try {
  await serverUp();
  applyIfNothingIsUndone();
  const account = parse(readFileSync(config, 'utf8'))?.account?.id;
  if (account) {
    const token = await dashboardToken(account);
    // The token sits in the fragment, so it is never sent to the server nor written to its log.
    process.stdout.write(`dashboard: ${base}/#token=${token}\n`);
  }
} catch (err) {
  if (!(err instanceof Stopped)) throw err; // the server is being stopped; its exit ends this process
}
