// `credits export --out <file>` as `credits init -f <file>` writes: the file's folder is made when missing,
// and the `$schema` line resolves from the file's folder to this package's schema (it named ./schema/…
// whatever the folder). The CLI as a child process on PostgreSQL.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freshPgUrl } from '../support/databases.js';
import { runCli } from '../support/cli-on-stores.js';

const yaml = `version: 1
account:
  id: acme
  creditLimit: 100
`;

describe('credits export --out', () => {
  it('makes a missing folder and writes a $schema path that resolves from it', async () => {
    const env = { DATABASE_URL: await freshPgUrl() };
    const cwd = mkdtempSync(join(tmpdir(), 'credits-export-'));
    writeFileSync(join(cwd, 'credits.yaml'), yaml);
    const cli = (...args: string[]) => runCli(cwd, args, env);
    expect((await cli('apply', '--auto-approve')).code).toBe(0);

    const file = 'infra/live/credits.yaml';
    const r = await cli('export', '--out', file);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(join(cwd, file), 'utf8');
    const schema = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text)?.[1];
    expect(schema).toBeDefined();
    expect(existsSync(join(dirname(join(cwd, file)), schema!)), schema).toBe(true);

    // The exported file plans to no changes.
    const plan = await cli('plan', '-f', file, '--json');
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout).changes).toEqual([]);
  });
});
