// Files that are not files: a FIFO would block a reader for ever and /dev/zero never ends. credits.yaml and
// saved plans are read only when they are regular files (after links), with a coded error naming the path.
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credits } from '../support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'credits-special-'));
execFileSync('mkfifo', [join(dir, 'fifo.yaml'), join(dir, 'fifo-plan.json')]);
symlinkSync('/dev/zero', join(dir, 'zero.yaml'));
symlinkSync('/dev/zero', join(dir, 'zero-plan.json'));
writeFileSync(join(dir, 'credits.yaml'), 'account: {id: acme, name: Acme, creditLimit: 1}\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('only regular files are read', () => {
  it.each([
    ['validate -f fifo.yaml', 'fifo.yaml'],
    ['validate -f zero.yaml', 'zero.yaml'],
    ['plan -f fifo.yaml', 'fifo.yaml'],
    ['apply -f zero.yaml --auto-approve', 'zero.yaml'],
    ['apply fifo-plan.json', 'fifo-plan.json'],
    ['apply zero-plan.json', 'zero-plan.json'],
  ])(
    'credits %s: FILE_UNREADABLE naming the path, without hanging',
    async (args, file) => {
      const r = await credits(dir, args.split(' '), {}, 90_000);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`FILE_UNREADABLE  cannot read ${file}: not a regular file`);
    },
    120_000,
  );
});
