// One process owns an embedded data directory; every other `credits` process works through it, or is refused
// with DATABASE_IN_USE, never on a copy of its own. Real processes: `credits serve` and CLI commands.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../support/serve-process.js';
import {
  credits,
  get,
  projectDir,
  spawnServe,
  startServe,
  stopServe,
  type Served,
} from '../support/cli-process.js';

const servers: Served[] = [];
const dirs: string[] = [];
const project = () => {
  const dir = projectDir();
  dirs.push(dir);
  return dir;
};
const serve = async (dir: string) => {
  const s = await startServe(dir);
  servers.push(s);
  return s;
};

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.child.kill('SIGKILL');
    await s.exited;
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const token = async (dir: string, role = 'admin') => {
  const r = await credits(dir, ['token', 'create', '--account', 'acme', '--role', role]);
  if (r.code !== 0) throw new Error(`token create failed: ${r.stderr}`);
  return r.stdout.trim();
};

// Each test starts several processes that open PGlite (seconds each on a loaded machine).
describe('an embedded data directory has one owner', { timeout: 180_000 }, () => {
  it('with `credits serve` running, CLI apply and token create go through it: live at once', async () => {
    const dir = project();
    const server = await serve(dir);
    const applied = await credits(dir, ['apply', '-f', 'credits.yaml', '--auto-approve']);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/Apply complete/);
    const admin = await token(dir);
    const overview = await get(server.base, '/v1/overview', admin);
    expect(overview.status).toBe(200);
    expect(overview.body.creditLimit).toBe('100000');
    // A later apply is seen by the server at once too.
    const file = join(dir, 'credits.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('creditLimit: 100000', 'creditLimit: 100001'));
    expect((await credits(dir, ['apply', '-f', 'credits.yaml', '--auto-approve'])).code).toBe(0);
    expect((await get(server.base, '/v1/overview', admin)).body.creditLimit).toBe('100001');
    const verify = await credits(dir, ['verify']);
    expect(verify.code).toBe(0);
  });

  it('a second `credits serve` on the directory is refused with DATABASE_IN_USE naming the owner', async () => {
    const dir = project();
    const first = await serve(dir);
    await credits(dir, ['apply', '-f', 'credits.yaml', '--auto-approve']);
    const second = spawnServe(dir, await freePort());
    servers.push(second);
    expect(await second.up).toBe(false);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toContain('DATABASE_IN_USE');
    expect(second.stderr()).toContain(`process ${first.child.pid} (credits serve --port ${first.port})`);
    // The first still serves the one database, and a token made now works there.
    expect((await get(first.base, '/v1/overview', await token(dir))).status).toBe(200);
  });

  it('kill -9 of the owner: the next server takes over, the data is intact and the CLI goes through it', async () => {
    const dir = project();
    const first = await serve(dir);
    await credits(dir, ['apply', '-f', 'credits.yaml', '--auto-approve']);
    const admin = await token(dir);
    const edit = await fetch(`${first.base}/v1/settings`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ creditLimit: '120000' }),
    });
    expect(edit.status).toBe(200);
    first.child.kill('SIGKILL');
    await first.exited;
    const next = await serve(dir); // not refused: the dead owner's lock went with it
    const later = await token(dir); // through the new owner
    const overview = await get(next.base, '/v1/overview', later);
    expect(overview.status).toBe(200);
    expect(overview.body.creditLimit).toBe('120000');
    expect((await get(next.base, '/v1/overview', admin)).status).toBe(200);
    const plan = await credits(dir, ['plan', '-f', 'credits.yaml']);
    expect(plan.stdout).toContain('changed outside credits.yaml: applied 100000, now 120000');
  });

  it('several processes starting at once on a fresh directory: exactly one owner, one database', async () => {
    const dir = project();
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    const racers = ports.map((port) => spawnServe(dir, port));
    servers.push(...racers);
    const migrations = await Promise.all([1, 2, 3].map(() => credits(dir, ['migrate'])));
    for (const m of migrations) expect(m.stderr).toBe('');
    const up = await Promise.all(racers.map((r) => r.up));
    if (!up.includes(true))
      console.log(
        racers.map((r) => r.stderr()),
        migrations,
      );
    expect(up.filter(Boolean)).toHaveLength(1);
    const owner = racers[up.indexOf(true)]!;
    for (const loser of racers.filter((r) => r !== owner)) {
      expect(await loser.exited).toBe(1);
      expect(loser.stderr()).toContain('DATABASE_IN_USE');
    }
    // Every CLI process wrote to the database the server reads: each token works there.
    expect((await credits(dir, ['apply', '-f', 'credits.yaml', '--auto-approve'])).code).toBe(0);
    const tokens = await Promise.all([1, 2, 3, 4].map(() => token(dir, 'service')));
    for (const t of tokens) expect((await get(owner.base, '/v1/groups', t)).status).not.toBe(401);
    expect(await stopServe(owner)).toBe(0);
  });

  it('short commands at once without a server: each owns in turn or goes through the owner of the moment', async () => {
    const dir = project();
    await credits(dir, ['apply', '-f', 'credits.yaml', '--auto-approve']);
    // Several short commands at once, none serving: each owns in turn or goes through the owner of the moment.
    const runs = await Promise.all(
      [1, 2, 3, 4, 5].map(() => credits(dir, ['token', 'create', '--account', 'acme', '--role', 'service'])),
    );
    for (const r of runs) expect(r.stderr).not.toMatch(/[A-Z_]{6,}  /);
    const server = await serve(dir);
    for (const r of runs)
      expect((await get(server.base, '/v1/groups', r.stdout.trim())).status).not.toBe(401);
  });
});
