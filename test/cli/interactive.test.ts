// Interactive apply on a real terminal (a pty from util-linux `script`): it shows the plan in colour and asks;
// only "yes" applies.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freshPgUrl } from '../support/databases.js';

const bin = resolve('bin/credits.js');

/** Runs the CLI under a pseudo-terminal, typing `answer` once the prompt is up. */
function onTerminal(cwd: string, args: string, answer: string, env: Record<string, string>) {
  const r = spawnSync('script', ['-qec', `${process.execPath} ${bin} ${args}`, '/dev/null'], {
    cwd,
    encoding: 'utf8',
    input: answer + '\n',
    env: { ...process.env, CI: '', NO_COLOR: '', ...env },
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout };
}

describe('interactive apply', () => {
  it('asks on a terminal, applies only after "yes", and colours the plan', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'credits-tty-'));
    const env = { DATABASE_URL: await freshPgUrl() };
    writeFileSync(join(dir, 'credits.yaml'), readFileSync('examples/small.yaml'));

    const declined = onTerminal(dir, 'apply', 'no', env);
    expect(declined.out).toMatch(/Apply these changes\? Only 'yes' will be accepted/);
    expect(declined.out).toMatch(/\x1b\[32m\+ account/); // green create on a TTY
    expect(declined.out).toMatch(/APPLY_DECLINED/);
    expect(declined.code).toBe(1);

    const accepted = onTerminal(dir, 'apply', 'yes', env);
    expect(accepted.out).toMatch(/Apply complete: \d+ changes to account tinyco/);
    expect(accepted.code).toBe(0);

    const plain = onTerminal(dir, 'plan', '', { ...env, NO_COLOR: '1' });
    expect(plain.out).toMatch(/No changes/);
    expect(plain.out).not.toMatch(/\x1b\[3\dm/);
  });
});
