// `credits serve` on SIGTERM: stops accepting connections at once, lets a request already in flight finish
// and commit, then closes its pool and exits 0 by itself (an open pool would keep the process alive).
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { pgWithConfig } from '../support/databases.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { createToken } from '../../src/state/tokens.js';

const config = `version: 1
account:
  id: calm
  creditLimit: 1000
groups:
  default:
    allocation: 100
`;

let server: ServeProcess | undefined;
afterAll(() => {
  server?.child.kill('SIGKILL');
});

const until = async (what: string, check: () => Promise<boolean>) => {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
};

const within = <T>(what: string, promise: Promise<T>, ms = 10_000): Promise<T> =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms),
    ),
  ]);

describe('graceful shutdown of credits serve', () => {
  it('SIGTERM: refuses new connections, finishes the request in flight, closes the pool and exits 0', async () => {
    const { url, store } = await pgWithConfig(config);
    const { token } = await createToken(store, { accountId: 'calm', role: 'admin' });
    await store.close();
    server = await startServeProcess(url);
    const { base, child, exited } = server;

    // Hold the account's apply lock so that an admin edit waits inside its transaction.
    const blocker = new pg.Client({ connectionString: url });
    blocker.on('error', () => {}); // the harness drops the database at the end, killing this session
    await blocker.connect();
    const lockKey = "hashtextextended('credits.apply:' || 'calm', 0)";
    await blocker.query(`SELECT pg_advisory_lock(${lockKey})`);
    const inFlight = fetch(`${base}/v1/settings`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ creditLimit: '2000' }),
    });
    await until('the edit to wait on the lock', async () => {
      const { rows } = await blocker.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
           AND query LIKE '%pg_advisory_xact_lock%'`,
      );
      return rows.length > 0;
    });

    child.kill('SIGTERM');
    await until('new connections to be refused', async () => {
      try {
        await fetch(`${base}/healthz`, { headers: { connection: 'close' } });
        return false;
      } catch {
        return true;
      }
    });
    expect(child.exitCode).toBeNull(); // still running: the edit is in flight

    await blocker.query(`SELECT pg_advisory_unlock(${lockKey})`);
    const res = await within('the request in flight', inFlight);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ changed: 1 });
    expect(await within('the process to exit', exited)).toBe(0);

    const { rows } = await blocker.query(
      "SELECT credit_limit::text AS limit FROM accounts WHERE account_id = 'calm'",
    );
    expect(rows[0].limit).toBe('2000.000000');
    const others = await blocker.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
    );
    expect(others.rows[0].n).toBe(0);
    await blocker.end();
  });
});
