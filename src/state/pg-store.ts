// Store over a node-postgres pool (DATABASE_URL). Type parsers are set per pool, never on the global pg.types.
import { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CreditsError } from '../errors.js';
import { tlsConnectError, withLibpqSslModes } from './pg-tls.js';
import {
  abortedTransaction,
  copyStatement,
  copyText,
  scopedQueryable,
  transactionScope,
  type QueryResult,
  type Store,
} from './store.js';

const NUMERIC = 1700;
const INT8 = 20;
const NUMERIC_ARRAY = 1231;
const INT8_ARRAY = 1016;
const asText = (value: string): string => value;
const ignore = (): void => {};
// pg-types parses int8[] element by element into their text, which is exactly what numeric[] needs too
// (its own default for numeric[] is parseFloat, which loses digits).
const builtin = pg.types.getTypeParser as (
  oid: number,
  format?: 'text' | 'binary',
) => (value: string) => unknown;
const textArray = builtin(INT8_ARRAY, 'text');

function typeParsers(): pg.CustomTypesConfig {
  const getTypeParser = (oid: number, format?: 'text' | 'binary') => {
    if (oid === NUMERIC || oid === INT8) return asText;
    if (oid === NUMERIC_ARRAY || oid === INT8_ARRAY) return textArray;
    return builtin(oid, format ?? 'text');
  };
  return { getTypeParser: getTypeParser as pg.CustomTypesConfig['getTypeParser'] };
}

// SQLSTATEs and socket errors that mean "the server is gone or refused us", not "the statement was wrong".
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  '57P01', // admin_shutdown: terminated by pg_terminate_backend or a fast shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
  '53300', // too_many_connections
  '3D000', // the database in the URL does not exist
  '28000',
  '28P01', // authentication
]);
const isConnectionLoss = (err: unknown): boolean => {
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  // node-postgres reports a dropped socket without a code.
  return (
    typeof message === 'string' &&
    /^Connection terminated|^timeout exceeded when trying to connect|^Client (has encountered a connection error|was closed)/.test(
      message,
    )
  );
};

/** Removes the URL and its password from driver messages: errors are logged and shown to users. */
function redactor(url: string): (text: string) => string {
  const secrets = [url];
  try {
    const { password } = new URL(url);
    if (password) secrets.push(password, decodeURIComponent(password));
  } catch {
    // Not a URL: nothing more to find than the string itself.
  }
  return (text) => {
    let out = text.replace(/postgres(ql)?:\/\/\S*/g, 'postgres://…');
    for (const s of secrets) if (s) out = out.split(s).join('…');
    return out;
  };
}

export interface PgStoreOptions {
  max?: number;
  applicationName?: string;
  /** Connect to this unix socket whatever the URL names: an embedded database served by its owner. */
  socket?: string;
  /** 'pglite' when the server at `socket` is PGlite, so its upkeep (VACUUM, ANALYZE) still runs. */
  kind?: Store['kind'];
  /** false where the server cannot take COPY FROM STDIN (PGlite over the wire): bulk writes use plain SQL. */
  copy?: boolean;
  /** pg's idleTimeoutMillis (0: idle connections stay open). */
  idleTimeoutMillis?: number;
}

/** A socket that connects to `path` whatever host and port pg asks for. */
const socketAt = (path: string) => (): Socket => {
  const socket = new Socket();
  const connect = socket.connect.bind(socket) as (path: string) => Socket;
  return Object.assign(socket, { connect: () => connect(path) });
};

export function createPgStore(url: string, opts: PgStoreOptions = {}): Store {
  const redact = redactor(url);
  const unavailable = (err: unknown): CreditsError => {
    const tls = tlsConnectError(err);
    if (tls) return tls;
    const e = err as { code?: unknown; message?: unknown };
    const text = redact(String(e.message ?? err));
    const code = typeof e.code === 'string' ? e.code : undefined;
    return new CreditsError(
      'DATABASE_UNAVAILABLE',
      { reason: code && !text.includes(code) ? `${code}: ${text}` : text },
      { code },
    );
  };
  const translate = (err: unknown): unknown => (isConnectionLoss(err) ? unavailable(err) : err);

  const pool = new pg.Pool({
    connectionString: withLibpqSslModes(url),
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'credits',
    types: typeParsers(),
    ...(opts.socket ? { stream: socketAt(opts.socket) } : {}),
    ...(opts.idleTimeoutMillis !== undefined ? { idleTimeoutMillis: opts.idleTimeoutMillis } : {}),
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', ignore);
  const scope = transactionScope();
  let closing: Promise<void> | undefined;

  /** Every failure to obtain a connection (bad URL, refused, auth) is "unavailable". */
  const connect = async (): Promise<pg.PoolClient> => {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw unavailable(err);
    }
    // A checked-out client whose server goes away between queries emits 'error'; unheard, that would crash
    // the process. The next query on it fails and is reported instead.
    client.on('error', ignore);
    return client;
  };
  /** A client whose connection failed is destroyed instead of going back to the pool. */
  const release = (client: pg.PoolClient, broken: Error | undefined): void => {
    client.off('error', ignore);
    client.release(broken);
  };

  const run = async <R>(client: pg.PoolClient, sql: string, params?: unknown[]): Promise<QueryResult<R>> => {
    const result = (await client.query(sql, params)) as pg.QueryResult | pg.QueryResult[];
    // A multi-statement script yields one result per statement; report the last, as PGlite does.
    const last = Array.isArray(result) ? result[result.length - 1] : result;
    return { rows: (last?.rows ?? []) as R[], rowCount: last?.rowCount ?? 0 };
  };

  /** copyRows: COPY FROM STDIN on this client, the text streamed in chunks (backpressure respected). */
  const copy = async (
    client: pg.PoolClient,
    table: string,
    columns: readonly string[],
    rows: Iterable<readonly (string | null)[]>,
  ): Promise<number> => {
    const stream = client.query(copyFrom(copyStatement(table, columns, 'STDIN')));
    await pipeline(Readable.from(copyText(rows, columns.length), { objectMode: false }), stream);
    return stream.rowCount;
  };

  const withClient = async <T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await connect();
    let broken: Error | undefined;
    try {
      return await fn(client);
    } catch (err) {
      if (isConnectionLoss(err)) broken = err as Error;
      throw translate(err);
    } finally {
      release(client, broken);
    }
  };

  const transaction: Store['transaction'] = async (fn) => {
    const client = await connect();
    const { tx, end } = scopedQueryable(
      async (sql, params) => {
        try {
          return await run(client, sql, params);
        } catch (err) {
          throw translate(err);
        }
      },
      async (table, columns, rows) => {
        try {
          return await copy(client, table, columns, rows);
        } catch (err) {
          throw translate(err);
        }
      },
    );
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const value = await scope.run(() => fn(opts.copy === false ? { query: tx.query } : tx));
      end();
      const commit = await client.query('COMMIT');
      // COMMIT of a transaction in which a statement failed answers ROLLBACK instead of raising.
      if (commit.command === 'ROLLBACK') throw abortedTransaction();
      return value;
    } catch (err) {
      end();
      await client.query('ROLLBACK').catch((rollbackErr: Error) => {
        broken = rollbackErr;
      });
      throw translate(err);
    } finally {
      release(client, broken);
    }
  };

  const store: Store = {
    kind: opts.kind ?? 'postgres',
    async query(sql, params) {
      scope.assertOutside();
      return withClient((client) => run(client, sql, params));
    },
    async copyRows(table, columns, rows) {
      scope.assertOutside();
      return withClient((client) => copy(client, table, columns, rows));
    },
    async exec(sql) {
      scope.assertOutside();
      await withClient((client) => run(client, sql));
    },
    async transaction(fn) {
      scope.assertOutside();
      return transaction(fn);
    },
    close() {
      closing ??= pool.end();
      return closing;
    },
    stats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  };
  if (opts.copy === false) delete store.copyRows;
  return store;
}
