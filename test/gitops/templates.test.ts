// The workflow templates a team copies (examples/gitops/): each passes a real workflow linter, and the exact
// shell of their steps, run in a throw-away git repository against real PostgreSQL, gives the PR comment for a
// valid change, `::error` annotations and a failing exit for an invalid one, an apply on "merge" with the SHA
// and actor in the audit log, an empty plan afterwards, and a drift report. Only the steps that talk to GitHub
// or GitLab (posting the text these steps write) are not run.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import pg from 'pg';
import { freshPgUrl } from '../support/databases.js';
import { starterConfig } from '../../src/cli/starter-config.js';

const templates = resolve('examples/gitops');
const validator = resolve('node_modules/.bin/action-validator');

interface Step {
  id?: string;
  run?: string;
  uses?: string;
}
type Workflow = { jobs: Record<string, { steps: Step[] }> };

function step(file: string, id: string): string {
  const wf = parse(readFileSync(join(templates, 'github', file), 'utf8')) as Workflow;
  for (const job of Object.values(wf.jobs)) {
    const found = job.steps.find((s) => s.id === id);
    if (found?.run) return found.run;
  }
  throw new Error(`no step ${id} with a run script in ${file}`);
}

/** A throw-away repository whose `npx credits` is this checkout's CLI, as `npm ci` would install it. */
function repository(): { dir: string; git: (...args: string[]) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'credits-gitops-'));
  mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true });
  symlinkSync(resolve('bin/credits.js'), join(dir, 'node_modules/.bin/credits'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'budgets', private: true }));
  const git = (...args: string[]) => {
    const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'ci@example.com');
  git('config', 'user.name', 'CI');
  return { dir, git };
}

/** A run script as GitHub runs it on Linux: bash --noprofile --norc -eo pipefail. */
function runScript(dir: string, script: string, env: Record<string, string>) {
  const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', CREDITS_DATA_DIR: undefined, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('GitOps workflow templates', () => {
  it('pass the workflow linter (and so does this repository’s own CI)', () => {
    const files = [
      ...readdirSync(join(templates, 'github')).map((f) => join(templates, 'github', f)),
      ...readdirSync('.github/workflows').map((f) => resolve('.github/workflows', f)),
    ];
    expect(files.length).toBe(4);
    for (const file of files) {
      const r = spawnSync(validator, [file], { encoding: 'utf8' });
      expect(r.status, `${file}\n${r.stdout}${r.stderr}`).toBe(0);
    }
    // The linter must be able to fail: a misspelt key is refused.
    const broken = join(mkdtempSync(join(tmpdir(), 'credits-wf-')), 'broken.yml');
    writeFileSync(
      broken,
      readFileSync(join(templates, 'github/plan.yml'), 'utf8').replace('steps:', 'stepz:'),
    );
    expect(spawnSync(validator, [broken]).status).not.toBe(0);
  });

  it('plan on a pull request, apply on merge, drift on schedule, against real PostgreSQL', async () => {
    const url = await freshPgUrl();
    const { dir, git } = repository();
    const output = join(dir, '.github-output');
    const env = { DATABASE_URL: url, GITHUB_OUTPUT: output, GITHUB_ACTOR: 'octocat' };
    const file = join(dir, 'credits.yaml');

    // The repository as adopted: credits.yaml on main, applied once.
    writeFileSync(file, starterConfig());
    git('add', '-A');
    git('commit', '-qm', 'credits.yaml');
    const base = runScript(dir, step('apply.yml', 'apply'), { ...env, GITHUB_SHA: git('rev-parse', 'HEAD') });
    expect(base.code, base.stdout + base.stderr).toBe(0);

    // A pull request with an invalid change: annotations on the diff's lines, and the job fails.
    git('checkout', '-qb', 'broken');
    writeFileSync(file, starterConfig().replace('creditLimit: 100000', 'creditLimit: -5'));
    const invalid = runScript(dir, step('plan.yml', 'validate'), env);
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toMatch(/^::error file=credits\.yaml,line=8,col=\d+,title=NUMBER_NEGATIVE::/m);
    git('checkout', '-q', '--', '.');
    git('checkout', '-q', 'main');

    // A pull request with a valid change: the comment body and the saved plan.
    git('checkout', '-qb', 'raise-alice');
    writeFileSync(file, starterConfig().replace('alice@acme.com: 5000', 'alice@acme.com: 7000'));
    git('commit', '-qam', 'alice gets 7000');
    expect(runScript(dir, step('plan.yml', 'validate'), env).code).toBe(0);
    const planned = runScript(dir, step('plan.yml', 'plan'), env);
    expect(planned.code, planned.stderr).toBe(0);
    const comment = readFileSync(join(dir, 'comment.md'), 'utf8');
    expect(comment.startsWith('<!-- credits-plan -->\n### credits plan for `acme`')).toBe(true);
    expect(comment).toMatch(/alice@acme\.com/);
    expect(comment).toMatch(/5000.*7000/);
    expect(existsSync(join(dir, 'plan.json'))).toBe(true);

    // Merge, then the apply workflow's step with the merge commit's SHA.
    git('checkout', '-q', 'main');
    git('merge', '-q', '--no-ff', '-m', 'Merge raise-alice', 'raise-alice');
    const sha = git('rev-parse', 'HEAD');
    const applied = runScript(dir, step('apply.yml', 'apply'), { ...env, GITHUB_SHA: sha });
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const result = readFileSync(join(dir, 'result.md'), 'utf8');
    expect(result).toMatch(/credits apply: done/);
    expect(result).toContain(sha);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ actor: string; commit_sha: string; after_value: unknown }>(
        "SELECT actor, commit_sha, after_value FROM audit_log WHERE address = 'member.alice@acme.com.allocation'",
      );
      expect(rows).toEqual([{ actor: 'octocat', commit_sha: sha, after_value: '7000' }]);

      // After the apply, a plan of main is empty.
      const replanned = runScript(dir, step('plan.yml', 'plan'), env);
      expect(replanned.code).toBe(0);
      expect(readFileSync(join(dir, 'plan.md'), 'utf8')).toMatch(/No changes/);

      // The drift schedule: nothing to report, then an edit made outside the file.
      writeFileSync(output, '');
      expect(runScript(dir, step('drift.yml', 'plan'), env).code).toBe(0);
      expect(readFileSync(output, 'utf8')).toBe('drift=false\n');
      await client.query("UPDATE members SET allocation = 9000 WHERE email = 'alice@acme.com'");
      writeFileSync(output, '');
      expect(runScript(dir, step('drift.yml', 'plan'), env).code).toBe(0);
      expect(readFileSync(output, 'utf8')).toBe('drift=true\n');
      expect(readFileSync(join(dir, 'drift.md'), 'utf8')).toMatch(/alice@acme\.com/);
    } finally {
      await client.end();
    }
  }, 120_000);

  it('the GitLab template runs the same commands', async () => {
    const ci = parse(readFileSync(join(templates, 'gitlab/.gitlab-ci.yml'), 'utf8')) as Record<
      string,
      { script?: string[]; resource_group?: string }
    >;
    expect(ci['credits-apply']?.resource_group).toBe('credits-apply');
    const url = await freshPgUrl();
    const { dir, git } = repository();
    writeFileSync(join(dir, 'credits.yaml'), starterConfig());
    git('add', '-A');
    git('commit', '-qm', 'credits.yaml');
    const env = {
      DATABASE_URL: url,
      GITLAB_USER_LOGIN: 'maintainer',
      CI_COMMIT_SHA: git('rev-parse', 'HEAD'),
    };
    // validate and plan (the note is posted by the last script line, which talks to GitLab)
    const [validate, plan] = ci['credits-plan']?.script ?? [];
    expect(runScript(dir, validate ?? 'false', env).code).toBe(0);
    expect(runScript(dir, plan ?? 'false', env).code).toBe(0);
    expect(readFileSync(join(dir, 'comment.md'), 'utf8')).toMatch(/^<!-- credits-plan -->\n.*6 \| 0/ms);
    for (const line of ci['credits-apply']?.script ?? []) expect(runScript(dir, line, env).code).toBe(0);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT DISTINCT actor, commit_sha FROM audit_log');
      expect(rows).toEqual([{ actor: 'maintainer', commit_sha: env.CI_COMMIT_SHA }]);
    } finally {
      await client.end();
    }
  }, 60_000);
});
