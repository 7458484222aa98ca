// The package as a team installs it: `npm pack`, then `npm install ./credits-x.tgz` into an empty project
// (offline, from the npm cache that `npm ci` filled), and the installed `credits` runs validate, plan and apply
// on the embedded database there. The tarball holds what runs and nothing else.
import { describe, expect, it } from 'vitest';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const npm = (args: string[], cwd: string) => run('npm', args, { cwd });

function run(command: string, args: string[], opts: SpawnSyncOptions) {
  const r = spawnSync(command, args, {
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', DATABASE_URL: undefined, CREDITS_DATA_DIR: undefined },
    ...opts,
  });
  return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

describe('the installable package', () => {
  it('packs only what runs, installs into an empty project and runs there', () => {
    const root = resolve('.');
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { name: string; version: string };
    const work = mkdtempSync(join(tmpdir(), 'credits-pack-'));
    // dist/ was built by `npm test`; --ignore-scripts skips `prepare` so the pack does not build again.
    const packed = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], root);
    expect(packed.code, packed.stderr).toBe(0);
    const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
    const paths = info.files.map((f) => f.path);
    expect(paths).toContain('bin/credits.js');
    expect(paths).toContain('dist/cli/main.js');
    expect(paths).toContain('dist/state/migrations/001_initial.sql');
    expect(paths).toContain('dist/web/public/index.html');
    expect(paths).toContain('schema/credits.schema.json');
    const stray = paths.filter((p) => /^(test|bench|src|scripts|\.github|\.ci|node_modules)\//.test(p));
    expect(stray).toEqual([]);

    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
    const installed = npm(
      ['install', '--offline', '--no-audit', '--no-fund', join(work, info.filename)],
      app,
    );
    expect(installed.code, installed.stderr).toBe(0);
    // Every dependency supports the Node versions that `engines` names.
    expect(installed.stderr).not.toMatch(/EBADENGINE/);

    const bin = join(app, 'node_modules/.bin/credits');
    expect(existsSync(bin)).toBe(true);
    const credits = (args: string[]) => run(bin, args, { cwd: app });
    expect(credits(['--version']).stdout.trim()).toBe(pkg.version);
    expect(credits(['init', '-f', 'credits.yaml']).code).toBe(0);
    const valid = credits(['validate']);
    expect(valid.code, valid.stderr).toBe(0);
    const plan = credits(['plan', '--detailed-exitcode']);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toMatch(/Plan: 6 to create/);
    const applied = credits(['apply', '--auto-approve']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/Apply complete/);
    expect(credits(['plan', '--detailed-exitcode']).code).toBe(0);
    // The schema path the starter file names resolves inside the installed package.
    const firstLine = readFileSync(join(app, 'credits.yaml'), 'utf8').split('\n')[0] ?? '';
    const schemaPath = /\$schema=(\S+)/.exec(firstLine)?.[1] ?? '';
    expect(existsSync(join(app, schemaPath))).toBe(true);
  }, 120_000);
});
