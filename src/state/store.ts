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
}

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
export function scopedQueryable(run: Queryable['query']): { tx: Queryable; end(): void } {
  let open = true;
  return {
    tx: {
      query: (sql, params) => (open ? run(sql, params) : Promise.reject(new Error('transaction is closed'))),
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
