// The driver interface every layer above speaks to (Kysely style): two implementations, pg and PGlite.
import { AsyncLocalStorage } from 'node:async_hooks';
import { CreditsError } from '../errors.js';

export interface QueryResult<R> {
  rows: R[];
  /** Rows returned by a SELECT (or RETURNING), rows changed by INSERT/UPDATE/DELETE, 0 for DDL. */
  rowCount: number;
}

/**
 * The same contract on both drivers, so code above never asks which one it has:
 * - results: numeric and int8 (and their arrays) are exact decimal strings, never JS numbers; int2/int4 are
 *   numbers; timestamptz is a Date; json/jsonb are parsed; uuid and text are strings; bytea is a Uint8Array
 *   (a Buffer on pg).
 * - parameters: pass numerics as strings, arrays for `unnest($1::text[])`, and jsonb as `JSON.stringify(v)`
 *   (pg would turn a bare JS array into a Postgres array literal, not JSON).
 * - without parameters the SQL may be a multi-statement script (simple protocol); the last result is returned.
 * - errors from the server keep their SQLSTATE in `code` (e.g. '23505'); losing the server is
 *   CreditsError DATABASE_UNAVAILABLE.
 */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  /**
   * Bulk append (optional capability; both drivers have it, on the store and on a transaction's `tx`):
   * writes `rows` into `table` (`name` or `schema.name`, plain lower-case identifiers) as `columns`, in the
   * same session, so inside `transaction()` it is part of that transaction. Each value is the column's text
   * input form (numerics as decimal strings, booleans `t`/`f`, jsonb as JSON text) or null for SQL NULL; any
   * character may appear in a value. INSERT triggers fire (statement-level ones once), constraints hold, and
   * a failure rejects with the server's SQLSTATE in `code`, as `query` does. Resolves to the rows written.
   * pg: `COPY … FROM STDIN` in text format, streamed; PGlite: `COPY … FROM '/dev/blob'` of the same text.
   */
  copyRows?(table: string, columns: readonly string[], rows: Iterable<readonly CopyValue[]>): Promise<number>;
}

/** One value for `copyRows`: the column's text input form, or null for SQL NULL. */
export type CopyValue = string | null;

export interface Store extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /**
   * Runs fn in one transaction: COMMIT when it resolves, ROLLBACK when it throws. On pg it holds one pooled
   * client; on PGlite transactions and queries are queued. Use only `tx` inside fn: `store.query` there
   * would run outside the transaction on pg and deadlock on PGlite, so it throws instead.
   * If a statement failed inside fn and fn swallowed the error, COMMIT cannot succeed and this throws
   * DATABASE_ERROR rather than pretend the work was saved.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs a multi-statement SQL script outside any transaction. */
  exec(sql: string): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
  /** The connection pool as it stands (metrics); absent where there is no pool (in-process PGlite). */
  stats?(): PoolStats;
}

export interface PoolStats {
  /** Connections open, busy or idle. */
  total: number;
  idle: number;
  /** Callers queued for a connection because all `max` are busy. */
  waiting: number;
}

/**
 * Catches `store.*` calls made from inside a transaction callback, which would deadlock on PGlite (one
 * connection) and silently escape the transaction on pg. Both drivers use it, so the bug shows on both.
 */
export function transactionScope() {
  const current = new AsyncLocalStorage<{ open: boolean }>();
  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      const scope = { open: true };
      try {
        return await current.run(scope, fn);
      } finally {
        scope.open = false;
      }
    },
    assertOutside(): void {
      if (current.getStore()?.open) {
        throw new Error('store used inside store.transaction(); use the tx argument instead');
      }
    },
  };
}

/** A Queryable that refuses work once its transaction has ended, so a leaked tx cannot reach the pool. */
export function scopedQueryable(
  run: Queryable['query'],
  copy: NonNullable<Queryable['copyRows']>,
): { tx: Queryable; end(): void } {
  let open = true;
  const closed = () => Promise.reject(new Error('transaction is closed'));
  return {
    tx: {
      query: (sql, params) => (open ? run(sql, params) : closed()),
      copyRows: (table, columns, rows) => (open ? copy(table, columns, rows) : closed()),
    },
    end: () => {
      open = false;
    },
  };
}

/** Both drivers throw this when fn swallowed a failed statement and COMMIT therefore rolled back. */
export const abortedTransaction = (): CreditsError =>
  new CreditsError('DATABASE_ERROR', {
    reason: 'the transaction was rolled back because a statement in it failed',
  });

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** `COPY "table" ("a", "b") FROM <source>` for copyRows; refuses anything but plain identifiers. */
export function copyStatement(table: string, columns: readonly string[], source: string): string {
  const parts = table.split('.');
  const names = [...parts, ...columns];
  if (parts.length > 2 || !columns.length || !names.every((n) => IDENTIFIER.test(n))) {
    throw new Error(`copyRows: not a plain table or column name in ${table} (${columns.join(', ')})`);
  }
  const quote = (n: string) => `"${n}"`;
  return `COPY ${parts.map(quote).join('.')} (${columns.map(quote).join(', ')}) FROM ${source}`;
}

// COPY's text format: columns split by tab, rows by newline, NULL is \N; backslash, tab, newline and CR in a
// value are written as \\, \t, \n, \r. With every backslash doubled, no value can read as \N or the \. end marker.
const SPECIAL = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const escapeCopy = (v: string): string =>
  SPECIAL.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!) : v;

/** The rows as COPY text, in chunks of about `chunkChars` characters, each ending with a complete row. */
export function* copyText(
  rows: Iterable<readonly CopyValue[]>,
  width: number,
  chunkChars = 1 << 16,
): Generator<string, void> {
  let chunk = '';
  for (const row of rows) {
    if (row.length !== width)
      throw new Error(`copyRows: a row has ${row.length} values for ${width} columns`);
    let line = '';
    for (let i = 0; i < width; i++) {
      const v = row[i];
      if (i) line += '\t';
      line += v === null || v === undefined ? '\\N' : escapeCopy(v);
    }
    chunk += line + '\n';
    if (chunk.length >= chunkChars) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
