// The CLI as a user runs it: a child process of bin/credits.js (built dist/), exit codes, no prompt in CI,
// NO_COLOR, saved plans, export. Embedded PGlite in a temp dir, and PostgreSQL through DATABASE_URL.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { freshPgUrl } from '../support/databases.js';

const bin = resolve('bin/credits.js');

function credits(cwd: string, args: string[], env: Record<string, string | undefined> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      CI: undefined,
      NO_COLOR: undefined,
      FORCE_COLOR: undefined,
      DATABASE_URL: undefined,
      ...env,
    },
    input: '',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'credits-cli-'));

describe('credits CLI without a database', () => {
  it('prints its version and help with examples', () => {
    const dir = tempDir();
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(credits(dir, ['--version']).stdout.trim()).toBe(pkg.version);
    const help = credits(dir, ['plan', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--detailed-exitcode/);
    expect(help.stdout).toMatch(/Examples:/);
  });

  it('validate exits 0 for a valid file and 1 with coded, positioned errors for a broken one', () => {
    const dir = tempDir();
    expect(credits(process.cwd(), ['validate', '-f', 'examples/company.yaml']).code).toBe(0);
    writeFileSync(
      join(dir, 'credits.yaml'),
      'version: 1\naccount:\n  id: acme\n  creditLimit: -5\n  colour: blue\n',
    );
    const r = credits(dir, ['validate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^credits\.yaml:4:16 {2}NUMBER_NEGATIVE {2}/m);
    expect(r.stderr).toMatch(/^credits\.yaml:5:3 {2}SCHEMA_UNKNOWN_KEY {2}/m);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it('validate --json is machine-readable', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'two.yaml'),
      'version: 1\naccount:\n  id: a\n  creditLimit: 10\ngroups:\n  x:\n    allocation: 1\n    members:\n      a@b.co: {}\n  y:\n    allocation: 1\n    members:\n      A@b.co: {}\n',
    );
    const r = credits(dir, ['validate', '--json', '-f', 'two.yaml']);
    expect(r.code).toBe(1);
    const body = JSON.parse(r.stdout) as { valid: boolean; errors: { code: string; line: number }[] };
    expect(body.valid).toBe(false);
    expect(body.errors[0]).toMatchObject({ code: 'MEMBER_IN_TWO_GROUPS', line: 13, col: 7 });
  });

  it('reports a missing file as a coded error, with a hint that fits what was missing', () => {
    const r = credits(tempDir(), ['validate', '-f', 'nope.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^FILE_NOT_FOUND .*\n.*credits init/);
    const plan = credits(tempDir(), ['apply', 'plan.json'], { CI: 'true' });
    expect(plan.code).toBe(1);
    expect(plan.stderr).toMatch(/^PLAN_FILE_NOT_FOUND .*plan\.json\n.*credits plan --out/);
  });
});

describe.each([
  ['pglite', async () => ({}) as Record<string, string>],
  ['postgres', async () => ({ DATABASE_URL: await freshPgUrl() })],
])('credits init, plan, apply, export on %s', (_kind, envFor) => {
  it('token create prints the token alone on stdout, refuses a misplaced --member, notes an unknown one', async () => {
    const dir = tempDir();
    const env = await envFor();
    expect(credits(dir, ['init'], env).code).toBe(0);
    expect(credits(dir, ['apply', '--auto-approve'], env).code).toBe(0);
    const create = (...args: string[]) =>
      credits(dir, ['token', 'create', '--account', 'acme', ...args], env);

    const member = create('--role', 'member', '--member', 'Alice@acme.com');
    expect(member.code).toBe(0);
    expect(member.stdout).toMatch(/^cr_[\w-]{43}\n$/);
    expect(member.stderr).not.toMatch(/note:/);
    const typo = create('--role', 'member', '--member', 'alcie@acme.com');
    expect(typo.code).toBe(0);
    expect(typo.stderr).toMatch(/note: alcie@acme.com is not a member of acme yet/);
    const misplaced = create('--role', 'admin', '--member', 'alice@acme.com');
    expect(misplaced.code).toBe(1);
    expect(misplaced.stdout).toBe('');
    expect(misplaced.stderr).toMatch(/VALIDATION_FAILED .*--member is only for member tokens, not admin/);
    const list = credits(dir, ['token', 'list', '--account', 'acme'], env);
    expect(list.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('walks the new-user path with the right exit codes', async () => {
    const dir = tempDir();
    const env = await envFor();
    expect(credits(dir, ['init'], env).code).toBe(0);
    expect(existsSync(join(dir, 'credits.yaml'))).toBe(true);

    const plan = credits(dir, ['plan', '--detailed-exitcode'], { ...env, NO_COLOR: '1' });
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/\+ account/);
    expect(plan.stdout).not.toMatch(/\x1b\[/);
    expect(plan.stdout).toMatch(/Plan: \d+ to create, 0 to update, 0 to move, 0 to delete\./);

    // No TTY: apply never prompts and refuses without --auto-approve.
    const refused = credits(dir, ['apply'], { ...env, CI: 'true' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/CONFIRMATION_REQUIRED/);

    const applied = credits(dir, ['apply', '--auto-approve', '--actor', 'ci@example.com'], env);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/Apply complete/);

    const again = credits(dir, ['plan', '--detailed-exitcode'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/No changes/);

    // Saved plans: apply exactly that plan; a plan whose serial moved is refused as stale.
    const file = join(dir, 'credits.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('creditLimit: 100000', 'creditLimit: 120000'));
    expect(credits(dir, ['plan', '--out', 'a.json', '--json'], env).code).toBe(0);
    expect(credits(dir, ['plan', '--out', 'b.json'], env).code).toBe(0);
    const saved = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as {
      formatVersion: number;
      summary: object;
      configDigest: string;
    };
    expect(saved.formatVersion).toBe(2);
    expect(saved.summary).toEqual({ create: 0, update: 1, delete: 0, move: 0 });
    expect(credits(dir, ['apply', 'a.json'], env).code).toBe(0);
    if (env.DATABASE_URL) {
      // The saved plan carries the file it was made from: its text is kept for the next plan.
      const client = new pg.Client({ connectionString: env.DATABASE_URL });
      await client.connect();
      const { rows } = await client.query<{ config_digest: string }>(
        'SELECT config_digest FROM applied_files',
      );
      await client.end();
      expect(rows.map((r) => r.config_digest)).toEqual([saved.configDigest]);
    }
    const stale = credits(dir, ['apply', 'b.json'], env);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(
      /PLAN_STALE {2}plan is stale: it was made from state serial 1, the account is now at 2/,
    );

    const exported = credits(dir, ['export', '--out', 'live.yaml'], env);
    expect(exported.code).toBe(0);
    expect(credits(dir, ['plan', '-f', 'live.yaml', '--detailed-exitcode'], env).code).toBe(0);

    const markdown = credits(
      dir,
      ['plan', '--markdown', '-f', join(process.cwd(), 'examples/small.yaml')],
      env,
    );
    expect(markdown.code).toBe(0);
    expect(markdown.stdout).toMatch(/^### credits plan for `tinyco`/);
  });
});
