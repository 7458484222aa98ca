// Store over a node-postgres pool (DATABASE_URL). Type parsers are set per pool, not globally.
import pg from 'pg';
import { CreditsError } from '../errors.js';
import type { Queryable, QueryResult, Store } from './store.js';

const NUMERIC = 1700;
const INT8 = 20;
const asText = (value: string): string => value;

/** Connection errors name the host, never the URL (it may hold a password). */
function unavailable(err: unknown): CreditsError {
  const e = err as NodeJS.ErrnoException & { code?: string };
  const reason = e.code && /^[A-Z]/.test(e.code) ? `${e.code}${e.message ? `: ${redact(e.message)}` : ''}` : redact(String(e.message ?? e));
  return new CreditsError('DATABASE_UNAVAILABLE', { reason });
}
const redact = (message: string): string => message.replace(/postgres(ql)?:\/\/[^\s]*/g, 'postgres://…');

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', '57P03', '3D000', '28P01', '28000']);
const isConnectionError = (err: unknown): boolean => CONNECTION_CODES.has((err as { code?: string }).code ?? '');

export function createPgStore(url: string, opts: { max?: number; applicationName?: string } = {}): Store {
  const types = {
    getTypeParser: ((oid: number, format?: string) =>
      oid === NUMERIC || oid === INT8 ? asText : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'credits',
    types,
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {});

  const run = async <R>(client: pg.Pool | pg.PoolClient, sql: string, params?: unknown[]): Promise<QueryResult<R>> => {
    try {
      const r = await client.query(sql, params as unknown[]);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    } catch (err) {
      throw isConnectionError(err) ? unavailable(err) : err;
    }
  };

  return {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    async exec(sql) {
      await run(pool, sql);
    },
    async transaction(fn) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw unavailable(err);
      }
      const tx: Queryable = { query: (sql, params) => run(client, sql, params) };
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw isConnectionError(err) ? unavailable(err) : err;
      } finally {
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
