// `npm start`: build if needed, apply credits.yaml to the embedded database (or DATABASE_URL), create an admin
// token for its account, print the dashboard URL (token in the fragment, which browsers never send), serve.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const node = process.execPath;
const cli = join(root, 'bin/credits.js');
const run = (args, capture = false) => {
  const r = spawnSync(node, args, {
    cwd: root,
    stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
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

if (!existsSync(join(root, 'dist/cli/main.js'))) run([join(root, 'scripts/build.mjs')]);
run([cli, 'apply', '-f', 'credits.yaml', '--auto-approve', '--actor', 'npm-start']);

const serveArgs = process.argv.slice(2);
const account = parse(readFileSync(join(root, 'credits.yaml'), 'utf8'))?.account?.id;
if (account) {
  const token = run([cli, 'token', 'create', '--account', account, '--role', 'admin'], true).trim();
  const host = option(serveArgs, 'host', '127.0.0.1');
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  const port = option(serveArgs, 'port', '3000');
  // Printed once: the token sits in the fragment, so it is never sent to the server nor written to its log.
  process.stdout.write(`dashboard: http://${shown}:${port}/#token=${token}\n`);
}
const server = spawn(node, [cli, 'serve', ...serveArgs], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
server.on('exit', (code) => process.exit(code ?? 0));
