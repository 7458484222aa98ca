// Store over embedded PGlite (the default without DATABASE_URL). One connection: transactions are queued.
import type { PGlite } from '@electric-sql/pglite';
import type { Queryable, Store } from './store.js';

const asText = (value: string): string => value;

type Session = Pick<PGlite, 'query' | 'exec'>;

/** Without parameters a statement may be a multi-statement script (as with pg's simple protocol). */
async function run<R>(session: Session, sql: string, params?: unknown[]) {
  if (!params || params.length === 0) {
    const results = await session.exec(sql);
    const last = results[results.length - 1];
    return { rows: (last?.rows ?? []) as R[], rowCount: last?.affectedRows ?? last?.rows.length ?? 0 };
  }
  const r = await session.query<R>(sql, params);
  return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
}

export async function openPgliteStore(dataDir: string | undefined): Promise<Store> {
  const { PGlite: PGliteClass } = await import('@electric-sql/pglite');
  const db: PGlite = await PGliteClass.create(dataDir, { parsers: { 1700: asText, 20: asText } });
  let queue: Promise<unknown> = Promise.resolve();
  // PGlite runs one statement at a time on one session; a transaction must not interleave with others.
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    kind: 'pglite',
    query: <R>(sql: string, params?: unknown[]) => serial(() => run<R>(db, sql, params)),
    exec: (sql) =>
      serial(async () => {
        await db.exec(sql);
      }),
    transaction: (fn) =>
      serial(() =>
        db.transaction(async (t) => {
          const tx: Queryable = {
            query: <R>(sql: string, params?: unknown[]) => run<R>(t as unknown as Session, sql, params),
          };
          return fn(tx);
        }),
      ),
    close: () => serial(() => db.close()),
  };
}
