// `npm start`: build if needed, apply credits.yaml to the embedded database (or DATABASE_URL), then serve.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const node = process.execPath;
const run = (args) => {
  const r = spawnSync(node, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

if (!existsSync(join(root, 'dist/cli/main.js'))) run([join(root, 'scripts/build.mjs')]);
run([join(root, 'bin/credits.js'), 'apply', '-f', 'credits.yaml', '--auto-approve', '--actor', 'npm-start']);
const server = spawn(node, [join(root, 'bin/credits.js'), 'serve', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
server.on('exit', (code) => process.exit(code ?? 0));
