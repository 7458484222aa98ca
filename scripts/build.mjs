// Builds dist/ from src/ with tsc; run by `npm ci` (prepare) so `npx credits` works from a fresh clone.
import { execFileSync } from 'node:child_process';
import { rmSync, cpSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')],
  {
    stdio: 'inherit',
  },
);
// Non-TypeScript assets that the runtime reads next to the compiled code.
for (const dir of ['state/migrations', 'web/public']) {
  const from = join(root, 'src', dir);
  if (existsSync(from)) cpSync(from, join(root, 'dist', dir), { recursive: true });
}
