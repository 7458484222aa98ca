// One contract suite run against both Store drivers (Hono style): types, transactions, migrations, triggers.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { CreditsError } from '../../src/errors.js';
import { listMigrations, migrate, schemaStatus } from '../../src/state/migrate.js';
import { openStore } from '../../src/state/open-store.js';
import { createPgStore } from '../../src/state/pg-store.js';
import type { Queryable, Store } from '../../src/state/store.js';
import { adminUrl, emptyPgliteStore, emptyPgStore, freshPgUrl, storeKinds } from '../support/databases.js';

const emptyStores = { postgres: emptyPgStore, pglite: emptyPgliteStore };
const latest = Math.max(...listMigrations().map((m) => m.version));
const allMigrations = listMigrations().map((m) => m.file.replace(/\.sql$/, ''));

const one = async <R>(db: Queryable, sql: string, params?: unknown[]): Promise<R> => {
  const { rows } = await db.query<R>(sql, params);
  if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}`);
  return rows[0] as R;
};

describe.each(storeKinds)('Store contract on %s', (kind, freshStore) => {
  let store: Store;
  beforeAll(async () => {
    store = await freshStore();
    await store.exec(
      'CREATE TABLE scratch (id serial PRIMARY KEY, k text UNIQUE, n numeric(24,6), b bigint)',
    );
  });

  it('reports its kind', () => {
    expect(store.kind).toBe(kind);
  });

  describe('migrations', () => {
    it('apply to an empty database, then a second run applies nothing', async () => {
      const empty = await emptyStores[kind]();
      const first = await migrate(empty);
      expect(first).toEqual({ from: 0, to: latest, applied: allMigrations });
      const second = await migrate(empty);
      expect(second).toEqual({ from: latest, to: latest, applied: [] });
      const { rows } = await empty.query<{ version: number; name: string; applied_at: Date }>(
        'SELECT version, name, applied_at FROM schema_migrations ORDER BY version',
      );
      expect(rows.map((r) => r.version)).toEqual(listMigrations().map((m) => m.version));
      expect(rows[0]?.name).toBe('initial');
      expect(rows[0]?.applied_at).toBeInstanceOf(Date);
    });

    it('schemaStatus reports 0 on an empty database without creating anything, then the latest version', async () => {
      const empty = await emptyStores[kind]();
      expect(await schemaStatus(empty)).toEqual({ current: 0, expected: latest });
      const table = await one<{ t: string | null }>(
        empty,
        "SELECT to_regclass('schema_migrations')::text AS t",
      );
      expect(table.t).toBeNull();
      await migrate(empty);
      expect(await schemaStatus(empty)).toEqual({ current: latest, expected: latest });
    });

    it('fresh stores from the harness are fully migrated', async () => {
      expect(await schemaStatus(store)).toEqual({ current: latest, expected: latest });
    });
  });

  describe('types', () => {
    it.each([
      ['12345678901234567.123456', '12345678901234567.123456'],
      ['0.000001', '0.000001'],
      ['5', '5.000000'],
      ['-0.5', '-0.500000'],
      ['999999999999999999.999999', '999999999999999999.999999'],
    ])('numeric(24,6) %s round-trips exactly as the string %s', async (input, output) => {
      const direct = await one<{ n: unknown }>(store, 'SELECT $1::numeric(24,6) AS n', [input]);
      expect(direct.n).toBe(output);
      const stored = await one<{ n: unknown }>(store, 'INSERT INTO scratch (n) VALUES ($1) RETURNING n', [
        input,
      ]);
      expect(stored.n).toBe(output);
    });

    it('numeric arithmetic stays exact (no float on the way out)', async () => {
      const r = await one<{ s: unknown; big: unknown }>(
        store,
        "SELECT sum(x) AS s, '123456789012345678.000001'::numeric + 0 AS big FROM unnest($1::numeric[]) AS x",
        [['0.1', '0.2']],
      );
      expect(r).toEqual({ s: '0.3', big: '123456789012345678.000001' });
    });

    it('bigint, count(*) and numeric/bigint arrays come back as strings; int4 as a number', async () => {
      const r = await one<Record<string, unknown>>(
        store,
        `SELECT 9007199254740993::int8 AS big, $1::bigint AS param, count(*) AS n, 42::int4 AS small,
                ARRAY['1.5', '0.000001']::numeric[] AS nums, ARRAY[9007199254740993, -1]::int8[] AS bigs
           FROM (VALUES (1), (2)) v`,
        ['9223372036854775807'],
      );
      expect(r).toEqual({
        big: '9007199254740993',
        param: '9223372036854775807',
        n: '2',
        small: 42,
        nums: ['1.5', '0.000001'],
        bigs: ['9007199254740993', '-1'],
      });
    });

    it('timestamptz is a Date, jsonb is parsed, uuid and text are strings, bytea is a Uint8Array', async () => {
      const at = new Date('2026-01-02T03:04:05.678Z');
      const r = await one<Record<string, unknown>>(
        store,
        `SELECT $1::timestamptz AS at, $2::jsonb AS doc, '6f1c1a52-8a34-4c1f-9e4e-6a0c1d2b3c4d'::uuid AS id,
                'héllo'::text AS t, '\\x00ff10'::bytea AS raw, true AS yes, NULL::numeric AS nothing`,
        [at, JSON.stringify({ a: [1, 'x'], b: null })],
      );
      expect(r.at).toBeInstanceOf(Date);
      expect((r.at as Date).toISOString()).toBe(at.toISOString());
      expect(r.doc).toEqual({ a: [1, 'x'], b: null });
      expect(r.id).toBe('6f1c1a52-8a34-4c1f-9e4e-6a0c1d2b3c4d');
      expect(r.t).toBe('héllo');
      expect(r.raw).toBeInstanceOf(Uint8Array);
      expect([...(r.raw as Uint8Array)]).toEqual([0, 255, 16]);
      expect(r.yes).toBe(true);
      expect(r.nothing).toBeNull();
    });

    it('array parameters work for unnest bulk inserts', async () => {
      const keys = ['bulk-a', 'bulk-b', 'bulk-c'];
      const ins = await store.query(
        'INSERT INTO scratch (k, n, b) SELECT * FROM unnest($1::text[], $2::numeric[], $3::bigint[])',
        [keys, ['1.000001', '2', '3.5'], ['1', '9007199254740993', '3']],
      );
      expect(ins.rowCount).toBe(3);
      const { rows } = await store.query<{ k: string; n: string; b: string }>(
        'SELECT k, n, b FROM scratch WHERE k = ANY($1::text[]) ORDER BY k',
        [keys],
      );
      expect(rows).toEqual([
        { k: 'bulk-a', n: '1.000001', b: '1' },
        { k: 'bulk-b', n: '2.000000', b: '9007199254740993' },
        { k: 'bulk-c', n: '3.500000', b: '3' },
      ]);
    });
  });

  describe('results and errors', () => {
    it('rowCount is rows returned for SELECT/RETURNING and rows changed for writes', async () => {
      await store.query('INSERT INTO scratch (k) SELECT unnest($1::text[])', [['rc-1', 'rc-2']]);
      expect((await store.query("SELECT * FROM scratch WHERE k LIKE 'rc-%'")).rowCount).toBe(2);
      expect((await store.query("UPDATE scratch SET n = 1 WHERE k LIKE 'rc-%'")).rowCount).toBe(2);
      expect((await store.query("UPDATE scratch SET n = 2 WHERE k LIKE 'rc-%' RETURNING k")).rowCount).toBe(
        2,
      );
      expect((await store.query("DELETE FROM scratch WHERE k = 'nope'")).rowCount).toBe(0);
      expect((await store.query('SELECT 1 WHERE false')).rowCount).toBe(0);
    });

    it('SQL without parameters may be a script; the last statement answers', async () => {
      const r = await store.query("CREATE TEMP TABLE IF NOT EXISTS s1 (x int); SELECT 'last'::text AS which");
      expect(r.rows).toEqual([{ which: 'last' }]);
    });

    it('server errors keep their SQLSTATE', async () => {
      await store.query("INSERT INTO scratch (k) VALUES ('dup')");
      await expect(store.query("INSERT INTO scratch (k) VALUES ('dup')")).rejects.toMatchObject({
        code: '23505',
      });
      await expect(store.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
    });
  });

  describe('transactions', () => {
    it('commit: the value is returned and the writes are visible', async () => {
      const value = await store.transaction(async (tx) => {
        await tx.query("INSERT INTO scratch (k) VALUES ('tx-commit')");
        return (await one<{ n: string }>(tx, "SELECT count(*) AS n FROM scratch WHERE k = 'tx-commit'")).n;
      });
      expect(value).toBe('1');
      expect((await store.query("SELECT 1 FROM scratch WHERE k = 'tx-commit'")).rowCount).toBe(1);
    });

    it('rollback on throw: the writes are gone and the same error comes out', async () => {
      const boom = new Error('boom');
      await expect(
        store.transaction(async (tx) => {
          await tx.query("INSERT INTO scratch (k) VALUES ('tx-rollback')");
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect((await store.query("SELECT 1 FROM scratch WHERE k = 'tx-rollback'")).rowCount).toBe(0);
    });

    it('a failed statement whose error fn swallowed makes the commit fail instead of pretending', async () => {
      const outcome = store.transaction(async (tx) => {
        await tx.query("INSERT INTO scratch (k) VALUES ('tx-aborted')");
        await tx.query('SELECT * FROM no_such_table').catch(() => undefined);
        return 'pretend all is well';
      });
      await expect(outcome).rejects.toMatchObject({ code: 'DATABASE_ERROR' });
      expect((await store.query("SELECT 1 FROM scratch WHERE k = 'tx-aborted'")).rowCount).toBe(0);
    });

    it('a tx used after its transaction ended is refused', async () => {
      let leaked: Queryable | undefined;
      await store.transaction(async (tx) => {
        leaked = tx;
      });
      await expect(leaked!.query('SELECT 1')).rejects.toThrow(/transaction is closed/);
    });

    it('using the store itself inside a transaction is refused rather than deadlocking or escaping', async () => {
      await expect(store.transaction(() => store.query('SELECT 1'))).rejects.toThrow(/use the tx argument/);
      await expect(store.transaction(() => store.transaction(async () => 1))).rejects.toThrow(/use the tx/);
      expect((await store.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    });

    it('concurrent transactions do not interleave: read-modify-write under FOR UPDATE loses nothing', async () => {
      await store.exec(
        'CREATE TABLE counter (id int PRIMARY KEY, v int NOT NULL); INSERT INTO counter VALUES (1, 0)',
      );
      const seen = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          store.transaction(async (tx) => {
            const { v } = await one<{ v: number }>(tx, 'SELECT v FROM counter WHERE id = 1 FOR UPDATE');
            await sleep(i % 3); // give another transaction the chance to slip in, if it could
            await tx.query('UPDATE counter SET v = $1 WHERE id = 1', [v + 1]);
            return v;
          }),
        ),
      );
      expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
      expect(await one(store, 'SELECT v FROM counter')).toEqual({ v: 12 });
    });

    it('uncommitted writes are invisible to concurrent queries, and a rollback leaves nothing', async () => {
      const tx = store.transaction(async (t) => {
        await t.query("INSERT INTO scratch (k) VALUES ('tx-invisible')");
        await sleep(50);
        throw new Error('undo');
      });
      const during = store.query("SELECT count(*) AS n FROM scratch WHERE k = 'tx-invisible'");
      await expect(tx).rejects.toThrow('undo');
      expect((await during).rows).toEqual([{ n: '0' }]);
    });

    it('pg_advisory_xact_lock is callable inside a transaction', async () => {
      const r = await store.transaction(async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('credits.test:' || $1, 0))", ['acme']);
        return one<{ again: boolean }>(tx, 'SELECT pg_try_advisory_xact_lock($1) AS again', ['12345']);
      });
      expect(r.again).toBe(true);
    });
  });

  describe('copyRows (bulk append: COPY on both drivers)', () => {
    const hostile: [string, string | null][] = [
      ['tab', 'a\tb\t'],
      ['newline', 'line1\nline2\n'],
      ['cr', 'a\r\nb\r'],
      ['backslash', 'C:\\dir\\ \\\\ end\\'],
      ['backslash-n', '\\N'],
      ['backslash-t', '\\t\\n\\r\\x41\\101'],
      ['end-marker', '\\.'],
      ['end-marker-line', 'x\n\\.\ny'],
      ['empty', ''],
      ['null', null],
      ['unicode', 'naïve café — 日本語 🚀 ‮rtl‬ \u00a0nbsp e\u0301'],
      ['quotes', `'single' "double" ,comma; semi|pipe`],
      ['control', '\u0001\u0008\u000b\u000c\u001f\u007f'],
      ['numeric-looking', '00123.4500'],
    ];
    beforeAll(async () => {
      await store.exec(
        `CREATE TABLE copy_target (id int PRIMARY KEY, label text, t text, n numeric(24,6), b bigint,
           flag boolean, doc jsonb, made timestamptz DEFAULT now())`,
      );
    });
    const read = (ids: number[]) =>
      store.query<{ id: number; label: string; t: string | null; n: string | null; b: string | null }>(
        'SELECT id, label, t, n, b FROM copy_target WHERE id = ANY($1::int[]) ORDER BY id',
        [ids],
      );

    it('is offered by the store and by a transaction', async () => {
      expect(typeof store.copyRows).toBe('function');
      await store.transaction(async (tx) => {
        expect(typeof tx.copyRows).toBe('function');
      });
    });

    it('text with tabs, newlines, CRs, backslashes, \\N, \\., unicode and NULL arrives exactly', async () => {
      const rows = hostile.map(([label, t], i) => [String(100 + i), label, t]);
      expect(await store.copyRows!('copy_target', ['id', 'label', 't'], rows)).toBe(hostile.length);
      const { rows: back } = await read(rows.map((r) => Number(r[0])));
      expect(back.map((r) => [r.label, r.t])).toEqual(hostile);
    });

    it('numeric, bigint, boolean and jsonb take their text forms exactly; unnamed columns get defaults', async () => {
      const doc = { path: 'C:\\x\ty', lines: 'a\nb', emoji: '🚀', n: '1.10' };
      await store.copyRows!(
        'copy_target',
        ['id', 'label', 'n', 'b', 'flag', 'doc'],
        [
          ['200', 'big', '12345678901234567.123456', '9007199254740993', 't', JSON.stringify(doc)],
          ['201', 'small', '0.000001', '-9223372036854775808', 'f', '[1,"two",null]'],
          ['202', 'nulls', null, null, null, null],
          ['203', 'scale', '5', '0', 'true', '"just a string"'],
        ],
      );
      const { rows } = await store.query(
        'SELECT id, n, b, flag, doc, made IS NOT NULL AS made FROM copy_target WHERE id BETWEEN 200 AND 203 ORDER BY id',
      );
      expect(rows).toEqual([
        { id: 200, n: '12345678901234567.123456', b: '9007199254740993', flag: true, doc, made: true },
        { id: 201, n: '0.000001', b: '-9223372036854775808', flag: false, doc: [1, 'two', null], made: true },
        { id: 202, n: null, b: null, flag: null, doc: null, made: true },
        { id: 203, n: '5.000000', b: '0', flag: true, doc: 'just a string', made: true },
      ]);
    });

    it('many rows (several chunks) and zero rows', async () => {
      const ids = Array.from({ length: 5000 }, (_, i) => 1000 + i);
      const rows = ids.map((id) => [String(id), `row-${id}\t${'x'.repeat(id % 40)}`, `${id}.5`]);
      expect(await store.copyRows!('copy_target', ['id', 'label', 'n'], rows)).toBe(5000);
      const sum = await one<{ c: string; s: string }>(
        store,
        'SELECT count(*) AS c, sum(n) AS s FROM copy_target WHERE id BETWEEN 1000 AND 5999',
      );
      expect(sum).toEqual({ c: '5000', s: String(ids.reduce((a, b) => a + b, 0) + 2500) + '.000000' });
      expect(await store.copyRows!('copy_target', ['id', 'label'], [])).toBe(0);
    });

    it('inside a transaction: visible to it, gone on rollback, kept on commit', async () => {
      const boom = new Error('boom');
      await expect(
        store.transaction(async (tx) => {
          await tx.copyRows!('copy_target', ['id', 'label'], [['300', 'rolled back']]);
          expect((await tx.query('SELECT 1 FROM copy_target WHERE id = 300')).rowCount).toBe(1);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect((await read([300])).rowCount).toBe(0);
      await store.transaction(async (tx) => {
        await tx.query("INSERT INTO copy_target (id, label) VALUES (301, 'by query')");
        await tx.copyRows!('copy_target', ['id', 'label'], [['302', 'by copy']]);
      });
      expect((await read([301, 302])).rows.map((r) => r.label)).toEqual(['by query', 'by copy']);
    });

    it('a constraint violation rejects with its SQLSTATE, undoes the whole transaction, and the store goes on', async () => {
      await expect(
        store.copyRows!(
          'copy_target',
          ['id', 'label'],
          [
            ['400', 'ok'],
            ['400', 'duplicate'],
          ],
        ),
      ).rejects.toMatchObject({ code: '23505' });
      expect((await read([400])).rowCount).toBe(0);
      await expect(
        store.transaction(async (tx) => {
          await tx.query("INSERT INTO copy_target (id, label) VALUES (401, 'before')");
          await tx.copyRows!(
            'copy_target',
            ['id', 'label'],
            [
              ['402', 'x'],
              ['403', null],
            ],
          ); // label NULL is fine
          await tx.copyRows!('copy_target', ['id', 'n'], [['404', 'not a number']]);
        }),
      ).rejects.toMatchObject({ code: '22P02' });
      expect((await read([401, 402, 403, 404])).rowCount).toBe(0);
      // The same (pooled) connection is usable again.
      expect(await store.copyRows!('copy_target', ['id', 'label'], [['405', 'after']])).toBe(1);
      await store.transaction(async (tx) => {
        expect((await tx.query('SELECT 1 FROM copy_target WHERE id = 405')).rowCount).toBe(1);
      });
    });

    it('refuses names that are not plain identifiers, rows of the wrong width, and a closed transaction', async () => {
      await expect(store.copyRows!('copy_target; DROP TABLE x', ['id'], [['1']])).rejects.toThrow(
        /not a plain/,
      );
      await expect(store.copyRows!('copy_target', ['id", "label'], [['1']])).rejects.toThrow(/not a plain/);
      await expect(store.copyRows!('copy_target', [], [])).rejects.toThrow(/not a plain/);
      await expect(store.copyRows!('copy_target', ['id', 'label'], [['500']])).rejects.toThrow(
        /1 values for 2 columns/,
      );
      expect((await read([1, 500])).rowCount).toBe(0);
      let leaked: Queryable | undefined;
      await store.transaction(async (tx) => {
        leaked = tx;
      });
      await expect(leaked!.copyRows!('copy_target', ['id'], [['501']])).rejects.toThrow(
        /transaction is closed/,
      );
      await expect(
        store.transaction(() => store.copyRows!('copy_target', ['id'], [['502']])),
      ).rejects.toThrow(/use the tx argument/);
    });
  });

  describe('declared_version triggers (001_initial.sql)', () => {
    let account = 0;
    const version = async (id: string) =>
      BigInt(
        (
          await one<{ v: string }>(
            store,
            'SELECT declared_version AS v FROM accounts WHERE account_id = $1',
            [id],
          )
        ).v,
      );
    /** A new account with one group `default`; returns its id and current declared_version. */
    const setup = async () => {
      const id = `acct-${++account}`;
      await store.query("INSERT INTO accounts (account_id, name, credit_limit) VALUES ($1, 'Acme', '1000')", [
        id,
      ]);
      await store.query(
        "INSERT INTO groups (account_id, group_key, name) VALUES ($1, 'default', 'Default')",
        [id],
      );
      return { id, before: await version(id) };
    };

    it('inserting a group bumps it', async () => {
      const id = `acct-${++account}`;
      await store.query("INSERT INTO accounts (account_id, name) VALUES ($1, 'Acme')", [id]);
      const before = await version(id);
      await store.query("INSERT INTO groups (account_id, group_key, name) VALUES ($1, 'g', 'G')", [id]);
      expect(await version(id)).toBe(before + 1n);
    });

    it('inserting a declared member bumps it', async () => {
      const { id, before } = await setup();
      await store.query("INSERT INTO members (account_id, email, declared) VALUES ($1, 'a@x.io', true)", [
        id,
      ]);
      expect(await version(id)).toBe(before + 1n);
    });

    it('inserting an undeclared member (a runtime signup) does not', async () => {
      const { id, before } = await setup();
      await store.query("INSERT INTO members (account_id, email, declared) VALUES ($1, 'b@x.io', false)", [
        id,
      ]);
      expect(await version(id)).toBe(before);
    });

    it('a bulk insert of declared members bumps once (statement-level trigger)', async () => {
      const { id, before } = await setup();
      await store.query(
        'INSERT INTO members (account_id, email, declared) SELECT $1, e, true FROM unnest($2::text[]) AS e',
        [id, ['c@x.io', 'd@x.io', 'e@x.io']],
      );
      expect(await version(id)).toBe(before + 1n);
    });

    it('copyRows of declared members bumps once, and the group check holds (statement-level triggers)', async () => {
      const { id, before } = await setup();
      await store.copyRows!(
        'members',
        ['account_id', 'email', 'declared'],
        ['f@x.io', 'g@x.io', 'h@x.io'].map((e) => [id, e, 't']),
      );
      expect(await version(id)).toBe(before + 1n);
      await expect(
        store.copyRows!('members', ['account_id', 'email', 'group_key'], [[id, 'i@x.io', 'missing']]),
      ).rejects.toMatchObject({ code: '23503' });
    });

    it("updating a group's allocation bumps it", async () => {
      const { id, before } = await setup();
      await store.query("UPDATE groups SET allocation = '10.5' WHERE account_id = $1", [id]);
      expect(await version(id)).toBe(before + 1n);
    });

    it("updating an undeclared member's name does not; giving it other terms than Default's does (010)", async () => {
      const { id } = await setup();
      await store.query("INSERT INTO members (account_id, email) VALUES ($1, 'f@x.io')", [id]);
      const before = await version(id);
      await store.query("UPDATE members SET name = 'F', signed_up_at = now() WHERE account_id = $1", [id]);
      expect(await version(id)).toBe(before);
      await store.query("UPDATE members SET allocation = '3' WHERE account_id = $1", [id]);
      expect(await version(id)).toBe(before + 1n);
      await store.query('UPDATE members SET allocation = NULL WHERE account_id = $1', [id]);
      expect(await version(id)).toBe(before + 2n);
    });

    it('updating credit_limit bumps it', async () => {
      const { id, before } = await setup();
      await store.query("UPDATE accounts SET credit_limit = '2000' WHERE account_id = $1", [id]);
      expect(await version(id)).toBe(before + 1n);
    });

    it('updating state_serial alone does not', async () => {
      const { id, before } = await setup();
      await store.query('UPDATE accounts SET state_serial = state_serial + 1 WHERE account_id = $1', [id]);
      expect(await version(id)).toBe(before);
    });

    it('writing the same credit_limit again does not (IS DISTINCT FROM)', async () => {
      const { id, before } = await setup();
      await store.query("UPDATE accounts SET credit_limit = '1000.000000' WHERE account_id = $1", [id]);
      expect(await version(id)).toBe(before);
    });
  });
});

describe('PostgreSQL only', () => {
  it('two concurrent migrate() calls on one fresh database both succeed and apply each version once', async () => {
    const url = await freshPgUrl();
    const a = createPgStore(url, { max: 2 });
    const b = createPgStore(url, { max: 2 });
    try {
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      expect([...ra.applied, ...rb.applied].sort()).toEqual(allMigrations);
      expect(ra.to).toBe(latest);
      expect(rb.to).toBe(latest);
      const { rows } = await a.query<{ version: number; n: string }>(
        'SELECT version, count(*) AS n FROM schema_migrations GROUP BY version ORDER BY version',
      );
      expect(rows).toEqual(listMigrations().map((m) => ({ version: m.version, n: '1' })));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('an unreachable server is DATABASE_UNAVAILABLE and the message never shows the password', async () => {
    const port = new URL(adminUrl()).port;
    const secret = 'hunter2-s3cret';
    for (const url of [
      `postgres://credits:${secret}@127.0.0.1:1/credits`, // nothing listens on port 1
      `postgres://postgres:${secret}@127.0.0.1:${port}/no_such_database_here`,
    ]) {
      const store = createPgStore(url);
      try {
        const err = await store.query('SELECT 1').then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(CreditsError);
        expect(err).toMatchObject({ code: 'DATABASE_UNAVAILABLE', status: 503 });
        expect(String((err as Error).message)).not.toContain(secret);
        expect(JSON.stringify(err)).not.toContain(secret);
        await expect(store.transaction(async () => 1)).rejects.toMatchObject({
          code: 'DATABASE_UNAVAILABLE',
        });
      } finally {
        await store.close();
      }
    }
  });

  it('a backend killed mid-transaction is DATABASE_UNAVAILABLE, and the pool recovers', async () => {
    const url = await freshPgUrl();
    const store = createPgStore(url, { max: 1, applicationName: 'credits-kill-test' });
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    try {
      const outcome = store.transaction(async (tx) => {
        const { pid } = await one<{ pid: number }>(tx, 'SELECT pg_backend_pid() AS pid');
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        await tx.query('SELECT 1');
      });
      await expect(outcome).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
      expect((await store.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    } finally {
      await admin.end();
      await store.close();
    }
  });

  it('type parsers are per pool: the global pg.types are untouched', async () => {
    await createPgStore(adminUrl()).close();
    const numericArray = 1231 as Parameters<typeof pg.types.getTypeParser>[0];
    expect(pg.types.getTypeParser(numericArray, 'text')('{1.5}')).toEqual([1.5]);
  });
});

describe('openStore', () => {
  it('opens PostgreSQL when a URL is given', async () => {
    const store = await openStore({ databaseUrl: await freshPgUrl() });
    try {
      expect(store.kind).toBe('postgres');
      expect(await schemaStatus(store)).toEqual({ current: 0, expected: latest });
    } finally {
      await store.close();
    }
  });

  it('otherwise opens PGlite in dataDir, creating the folder, and the data persists across opens', async () => {
    const root = mkdtempSync(join(tmpdir(), 'credits-store-'));
    const dataDir = join(root, 'nested', 'db');
    try {
      const first = await openStore({ dataDir });
      expect(first.kind).toBe('pglite');
      await migrate(first);
      await first.query(
        "INSERT INTO accounts (account_id, name, credit_limit) VALUES ('p', 'P', '0.000001')",
      );
      await first.close();
      const second = await openStore({ dataDir });
      try {
        expect(await schemaStatus(second)).toEqual({ current: latest, expected: latest });
        expect((await second.query('SELECT credit_limit FROM accounts')).rows).toEqual([
          { credit_limit: '0.000001' },
        ]);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe.each(storeKinds)('group integrity on %s', (_kind, freshStore) => {
  it('a member cannot point at a missing group, and a group with members cannot be deleted', async () => {
    const store = await freshStore();
    await store.query("INSERT INTO accounts (account_id, name) VALUES ('gi', 'GI')");
    await store.query(
      "INSERT INTO groups (account_id, group_key, name) VALUES ('gi', 'default', 'Default'), ('gi', 'eng', 'Eng')",
    );
    await store.query("INSERT INTO members (account_id, email, group_key) VALUES ('gi', 'a@gi.test', 'eng')");
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: { code?: string }) => e.code,
      );
    expect(
      await code(
        store.query("INSERT INTO members (account_id, email, group_key) VALUES ('gi', 'b@gi.test', 'nope')"),
      ),
    ).toBe('23503');
    expect(await code(store.query("UPDATE members SET group_key = 'nope' WHERE email = 'a@gi.test'"))).toBe(
      '23503',
    );
    expect(await code(store.query("DELETE FROM groups WHERE account_id = 'gi' AND group_key = 'eng'"))).toBe(
      '23503',
    );
    // Many rows, one bad, across two accounts: the group must exist in the row's own account.
    await store.query("INSERT INTO accounts (account_id, name) VALUES ('gi2', 'GI2')");
    await store.query(
      "INSERT INTO groups (account_id, group_key, name) VALUES ('gi2', 'default', 'Default')",
    );
    expect(
      await code(
        store.query(
          `INSERT INTO members (account_id, email, group_key)
           SELECT CASE WHEN i % 2 = 0 THEN 'gi' ELSE 'gi2' END, 'm' || i || '@gi.test',
                  CASE WHEN i = 777 THEN 'eng' ELSE 'default' END
             FROM generate_series(1, 1000) AS i`,
        ),
      ),
    ).toBe('23503');
    expect(
      await code(
        store.query(
          `INSERT INTO members (account_id, email, group_key)
           SELECT CASE WHEN i % 2 = 0 THEN 'gi' ELSE 'gi2' END, 'm' || i || '@gi.test', 'default'
             FROM generate_series(1, 1000) AS i`,
        ),
      ),
    ).toBe('ok');
    await store.query("UPDATE members SET group_key = 'default' WHERE email = 'a@gi.test'");
    expect(await code(store.query("DELETE FROM groups WHERE account_id = 'gi' AND group_key = 'eng'"))).toBe(
      'ok',
    );
  });
});
