// Store over embedded PGlite (the default without DATABASE_URL). One connection: transactions are queued.
import type { PGlite, Results, Transaction } from '@electric-sql/pglite';
import { CreditsError } from '../errors.js';
import type { WireServer } from './pglite-wire.js';
import {
  abortedTransaction,
  copyStatement,
  copyText,
  scopedQueryable,
  transactionScope,
  type QueryResult,
  type Store,
} from './store.js';

const asText = (value: string): string => value;
// numeric and int8 as exact strings, like pg-store; PGlite derives numeric[] and int8[] from these.
const parsers = { 1700: asText, 20: asText };

type Session = Pick<PGlite | Transaction, 'query' | 'exec'>;

/** pg's rowCount: rows returned by a SELECT or RETURNING, else rows changed. PGlite reports them apart. */
const toResult = <R>(r: Results<R> | undefined): QueryResult<R> => ({
  rows: r?.rows ?? [],
  rowCount: r?.rows.length || r?.affectedRows || 0,
});

/** Without parameters the SQL may be a multi-statement script (simple protocol), as with pg. */
async function run<R>(session: Session, sql: string, params?: unknown[]): Promise<QueryResult<R>> {
  if (!params || params.length === 0) {
    const results = (await session.exec(sql)) as Results<R>[];
    return toResult(results[results.length - 1]);
  }
  return toResult(await session.query<R>(sql, params));
}

/** copyRows: the same COPY text as on pg, handed to PGlite's `COPY … FROM '/dev/blob'` in one piece. */
async function copy(
  session: Session,
  table: string,
  columns: readonly string[],
  rows: Iterable<readonly (string | null)[]>,
): Promise<number> {
  const sql = copyStatement(table, columns, "'/dev/blob'");
  const blob = new Blob([...copyText(rows, columns.length)]);
  const result = await session.query(sql, [], { blob });
  return result.affectedRows ?? 0;
}

const closedError = (err: unknown): unknown =>
  err instanceof Error && /PGlite is closed/.test(err.message)
    ? new CreditsError('DATABASE_UNAVAILABLE', { reason: 'the embedded database is closed' })
    : err;

export interface PgliteOptions {
  /** Start from a dump (PGlite `dumpDataDir`) instead of an empty cluster; much faster than initdb. */
  loadDataDir?: Blob | File;
}

export interface PgliteStore extends Store {
  readonly kind: 'pglite';
  /** A copy of the whole data directory, loadable with `loadDataDir` (tests clone a migrated database). */
  dumpDataDir(compression?: 'none' | 'gzip' | 'auto'): Promise<Blob>;
  /** Lets other processes in over the wire protocol on a unix socket, taking turns with this store's work. */
  serveWire(path: string): Promise<WireServer>;
}

export async function openPgliteStore(
  dataDir: string | undefined,
  opts: PgliteOptions = {},
): Promise<PgliteStore> {
  const { PGlite: PGliteClass, TransactionAbortedError } = await import('@electric-sql/pglite');
  const db = await PGliteClass.create(dataDir, { parsers, loadDataDir: opts.loadDataDir });
  const scope = transactionScope();
  // PGlite queues plain queries behind open transactions itself; this queue keeps our own order explicit
  // (FIFO across query, exec and transaction) instead of depending on its mutex implementation.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = async <T>(fn: () => Promise<T>): Promise<T> => {
    scope.assertOutside();
    const next = queue.then(fn, fn).catch((err: unknown) => Promise.reject(closedError(err)));
    queue = next.catch(() => undefined);
    return next;
  };
  let closing: Promise<void> | undefined;

  const transaction: Store['transaction'] = (fn) =>
    serial(async () => {
      try {
        return await db.transaction(async (t) => {
          const { tx, end } = scopedQueryable(
            (sql, params) => run(t, sql, params),
            (table, columns, rows) => copy(t, table, columns, rows),
          );
          try {
            return await scope.run(() => fn(tx));
          } finally {
            end();
          }
        });
      } catch (err) {
        throw err instanceof TransactionAbortedError ? abortedTransaction() : err;
      }
    });

  return {
    kind: 'pglite',
    query: (sql, params) => serial(() => run(db, sql, params)),
    copyRows: (table, columns, rows) => serial(() => copy(db, table, columns, rows)),
    exec: (sql) =>
      serial(async () => {
        await db.exec(sql);
      }),
    transaction,
    dumpDataDir: (compression) => serial(() => db.dumpDataDir(compression)),
    async serveWire(path) {
      const { serveWire } = await import('./pglite-wire.js');
      return serveWire(db, serial, path);
    },
    close() {
      closing ??= serial(() => db.close());
      return closing;
    },
  };
}
