// `credits token revoke` as docs show it: by the prefix `token list` prints (9 or 10 characters), by the
// whole token, by id; a prefix that names two tokens revokes none (TOKEN_AMBIGUOUS); every token command's
// --help has examples. The CLI as a child process on PostgreSQL.
import { describe, expect, it } from 'vitest';
import { freshPgUrl } from '../support/databases.js';
import { runCli } from '../support/cli-on-stores.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const yaml = `version: 1
account:
  id: acme
  creditLimit: 100
`;

describe('credits token revoke', () => {
  it('revokes by the listed prefix, by the whole token and by id; refuses an ambiguous prefix', async () => {
    const env = { DATABASE_URL: await freshPgUrl() };
    const cwd = mkdtempSync(join(tmpdir(), 'credits-revoke-'));
    writeFileSync(join(cwd, 'credits.yaml'), yaml);
    const cli = (...args: string[]) => runCli(cwd, args, env);
    expect((await cli('apply', '--auto-approve')).code).toBe(0);
    const make = async () =>
      (await cli('token', 'create', '--account', 'acme', '--role', 'service')).stdout.trim();
    const [a, b, c] = [await make(), await make(), await make()];
    const live = async () =>
      (await cli('token', 'list', '--account', 'acme')).stdout
        .trim()
        .split('\n')
        .filter((l) => !l.includes('revoked')).length;
    expect(await live()).toBe(3);

    // The list shows ten characters and an ellipsis; the docs' nine-character prefix works too.
    const r1 = await cli('token', 'revoke', '--account', 'acme', a.slice(0, 9));
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stdout).toBe('revoked 1 token\n');
    expect((await cli('token', 'revoke', '--account', 'acme', b)).code).toBe(0); // the whole token
    expect(await live()).toBe(1);

    // "cr_" alone is too short to name a token: nothing is found, nothing is revoked.
    const short = await cli('token', 'revoke', '--account', 'acme', 'cr_');
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/NOT_FOUND/);
    expect(await live()).toBe(1);
    // Two live tokens whose listed prefixes are the same (made so by SQL: random ones almost never are).
    const d = await make();
    const db = new pg.Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    await db.query('UPDATE api_tokens SET prefix = $1 WHERE prefix = $2', [c.slice(0, 10), d.slice(0, 10)]);
    const amb = await cli('token', 'revoke', '--account', 'acme', c.slice(0, 10));
    expect(amb.code).toBe(1);
    expect(amb.stderr).toMatch(/TOKEN_AMBIGUOUS/);
    expect(await live()).toBe(2);
    await db.query('UPDATE api_tokens SET prefix = $1 WHERE sha256 = sha256($2::bytea)', [d.slice(0, 10), d]);
    await db.end();
    const list = (await cli('token', 'list', '--account', 'acme')).stdout;
    const idOf = (t: string) =>
      list
        .split('\n')
        .find((l) => l.startsWith(t.slice(0, 10)))!
        .trim()
        .split(/\s+/)
        .pop()!;
    expect((await cli('token', 'revoke', '--account', 'acme', idOf(c))).code).toBe(0);
    expect((await cli('token', 'revoke', '--account', 'acme', d.slice(0, 10) + '…')).code).toBe(0);
    expect(await live()).toBe(0);
  }, 120_000);

  it('has examples in --help for token, token create, list and revoke', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'credits-revoke-help-'));
    for (const args of [['token'], ['token', 'create'], ['token', 'list'], ['token', 'revoke']]) {
      const help = await runCli(cwd, [...args, '--help'], {});
      expect(help.stdout, args.join(' ')).toMatch(/Examples:\n\s+\$ credits token/);
    }
  });
});
