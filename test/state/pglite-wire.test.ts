// The owner of an embedded folder serves its PGlite over a unix socket while using it itself. Connections take
// whole turns (a transaction, an extended-protocol exchange), so nothing interleaves with them and the
// owner's own queries wait for a client's open transaction instead of joining it or deadlocking.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from '../../src/state/open-store.js';
import { createPgStore } from '../../src/state/pg-store.js';
import type { Store } from '../../src/state/store.js';

// One owner for the file (opening PGlite takes seconds); each test starts from an empty table.
const root = mkdtempSync(join(tmpdir(), 'credits-wire-'));
let shared: { store: Store; socket: string };
beforeAll(async () => {
  const store = await openStore({ dataDir: join(root, 'db') });
  await store.exec('CREATE TABLE t (id int PRIMARY KEY, v text)');
  shared = { store, socket: join(root, 'db.sock') };
});
afterAll(async () => {
  await shared?.store.close();
  rmSync(root, { recursive: true, force: true });
});

async function owner(): Promise<{ store: Store; socket: string }> {
  await shared.store.exec('TRUNCATE t');
  return shared;
}

/** A raw pg client on the owner's socket (the CLI's path, without the store around it). */
async function client(socket: string): Promise<pg.Client> {
  const c = new pg.Client({
    user: 'postgres',
    database: 'postgres',
    stream: () => {
      const s = new Socket();
      const connect = s.connect.bind(s) as (path: string) => Socket;
      return Object.assign(s, { connect: () => connect(socket) });
    },
  });
  await c.connect();
  return c;
}

const settled = async <T>(p: Promise<T>, ms: number): Promise<boolean> =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

describe('PGlite served over the wire by its owner', () => {
  it('the socket is private to its user (mode 0600)', async () => {
    const { socket } = await owner();
    expect(statSync(socket).mode & 0o777).toBe(0o600);
  });

  it("the owner's own query waits for a client's open transaction, then sees its commit", async () => {
    const { store, socket } = await owner();
    const c = await client(socket);
    await c.query('BEGIN');
    await c.query("INSERT INTO t VALUES (1, 'client')");
    const ownerRead = store.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
    expect(await settled(ownerRead, 300)).toBe(false); // not inside the client's transaction
    await c.query('COMMIT');
    expect((await ownerRead).rows).toEqual([{ n: 1 }]);
    await c.end();
  });

  it("a client's turn waits for the owner's transaction, and their writes never mix", async () => {
    const { store, socket } = await owner();
    const c = await client(socket);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const ownerTx = store.transaction(async (tx) => {
      await tx.query("INSERT INTO t VALUES (2, 'owner')");
      await gate;
      throw new Error('rolled back');
    });
    const clientWrite = c.query("INSERT INTO t VALUES (3, 'client')");
    expect(await settled(clientWrite, 300)).toBe(false);
    release();
    await expect(ownerTx).rejects.toThrow('rolled back');
    await clientWrite;
    expect((await store.query('SELECT id FROM t ORDER BY id')).rows).toEqual([{ id: 3 }]);
    await c.end();
  });

  it('a client that vanishes mid-transaction is rolled back and the owner goes on', async () => {
    const { store, socket } = await owner();
    const c = await client(socket);
    c.on('error', () => {});
    await c.query('BEGIN');
    await c.query("INSERT INTO t VALUES (4, 'lost')");
    const ownerRead = store.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
    (c as unknown as { connection: { stream: Socket } }).connection.stream.destroy();
    expect((await ownerRead).rows).toEqual([{ n: 0 }]);
    expect((await store.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('many clients and the owner at once: every parameterised query gets its own answer', async () => {
    const { store, socket } = await owner();
    const remote = createPgStore('postgres://postgres@localhost/postgres', {
      socket,
      kind: 'pglite',
      copy: false,
      max: 4,
    });
    try {
      const checks: Promise<boolean>[] = [];
      for (let i = 0; i < 60; i++) {
        checks.push(remote.query<{ i: number }>('SELECT $1::int AS i', [i]).then((r) => r.rows[0]!.i === i));
        checks.push(store.query<{ i: number }>('SELECT $1::int AS i', [-i]).then((r) => r.rows[0]!.i === -i));
      }
      expect((await Promise.all(checks)).every(Boolean)).toBe(true);
      expect(remote.copyRows).toBeUndefined(); // COPY FROM STDIN would end PGlite: bulk writes use SQL
      // PGlite's upkeep (it has no autovacuum) runs through the socket too.
      expect(remote.kind).toBe('pglite');
      await remote.exec('VACUUM t');
      await remote.exec('ANALYZE t');
    } finally {
      await remote.close();
    }
  });

  it('COPY FROM STDIN from a client is cut off instead of ending the owner', async () => {
    const { store, socket } = await owner();
    const c = await client(socket);
    c.on('error', () => {});
    await expect(c.query('COPY t (id, v) FROM STDIN')).rejects.toThrow();
    expect((await store.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('a malformed message closes that connection only', async () => {
    const { store, socket } = await owner();
    const raw = new Socket();
    const closed = new Promise<void>((r) => raw.once('close', () => r()));
    raw.on('error', () => {});
    raw.connect(socket, () => raw.write(Buffer.from([0xff, 0xff, 0xff, 0xf0, 0, 3, 0, 0])));
    await closed;
    expect((await store.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });
});
