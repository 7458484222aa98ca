// `credits init` as its help shows it: a file in a folder that does not exist yet, and a `$schema` line that
// resolves from the file's folder to this package's schema (for the YAML language server).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const init = (cwd: string, file: string) =>
  spawnSync(process.execPath, [resolve('bin/credits.js'), 'init', '-f', file, '--no-database'], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });

describe('credits init', () => {
  it.each([
    ['infra/credits.yaml', mkdtempSync(join(tmpdir(), 'credits-init-'))],
    [`tmp-init-${process.pid}/credits.yaml`, resolve('.')],
  ])('writes %s, making its folder, with a $schema path that resolves', (file, cwd) => {
    const r = init(cwd, file);
    expect(r.status, r.stderr).toBe(0);
    const text = readFileSync(join(cwd, file), 'utf8');
    const schema = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text)?.[1];
    expect(schema).toBeDefined();
    expect(existsSync(join(dirname(join(cwd, file)), schema!))).toBe(true);
    if (cwd === resolve('.')) {
      expect(schema).toBe('../schema/credits.schema.json');
      rmSync(dirname(join(cwd, file)), { recursive: true });
    }
  });
});
