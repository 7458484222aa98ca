// Idempotency keys for ledger writes: same key + same request → the first result again; same key with a
// different request → IDEMPOTENCY_KEY_REUSED; a duplicate while the first is still running → IN_FLIGHT.
import { createHash } from 'node:crypto';
import { CreditsError } from '../errors.js';
import type { Queryable } from '../state/store.js';

export const requestHash = (value: unknown): string =>
  createHash('sha256').update(JSON.stringify(value)).digest('hex');

/**
 * Runs fn inside the caller's transaction under a transaction-scoped advisory lock on the key. The stored
 * result commits with fn's writes, so a replay can never see a result whose effects were rolled back.
 */
export async function idempotent<T>(
  tx: Queryable,
  accountId: string,
  key: string | undefined,
  hash: string,
  fn: () => Promise<T>,
): Promise<T> {
  if (!key) return fn();
  const lock = await tx.query<{ ok: boolean }>(
    "SELECT pg_try_advisory_xact_lock(hashtextextended('credits.idem:' || $1 || ':' || $2, 0)) AS ok",
    [accountId, key],
  );
  if (!lock.rows[0]!.ok) throw new CreditsError('IDEMPOTENCY_IN_FLIGHT');
  const seen = await tx.query<{ request_hash: string; response: T }>(
    'SELECT request_hash, response FROM idempotency_keys WHERE account_id = $1 AND idem_key = $2',
    [accountId, key],
  );
  const first = seen.rows[0];
  if (first) {
    if (first.request_hash !== hash) throw new CreditsError('IDEMPOTENCY_KEY_REUSED');
    return first.response;
  }
  const result = await fn();
  await tx.query(
    `INSERT INTO idempotency_keys (account_id, idem_key, request_hash, status_code, response)
     VALUES ($1, $2, $3, 200, $4)`,
    [accountId, key, hash, JSON.stringify(result)],
  );
  return result;
}

/**
 * Idempotency for writes that are not one ledger transaction (signup, settle, release, decisions, reset):
 * the key is claimed first (a row without a response), the response stored after success, the claim
 * dropped after failure. A claim without a response means the first request is still running.
 */
export type Claim =
  | { state: 'claimed' }
  | { state: 'replay'; status: number; response: unknown }
  | { state: 'in-flight' }
  | { state: 'reused' };

export async function claimKey(db: Queryable, accountId: string, key: string, hash: string): Promise<Claim> {
  const inserted = await db.query(
    `INSERT INTO idempotency_keys (account_id, idem_key, request_hash) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING RETURNING idem_key`,
    [accountId, key, hash],
  );
  if (inserted.rowCount === 1) return { state: 'claimed' };
  const { rows } = await db.query<{ request_hash: string; status_code: number | null; response: unknown }>(
    'SELECT request_hash, status_code, response FROM idempotency_keys WHERE account_id = $1 AND idem_key = $2',
    [accountId, key],
  );
  const row = rows[0];
  if (!row) return claimKey(db, accountId, key, hash); // the claim was dropped meanwhile: try again
  if (row.request_hash !== hash) return { state: 'reused' };
  if (row.status_code === null) return { state: 'in-flight' };
  return { state: 'replay', status: row.status_code, response: row.response };
}

export async function completeKey(
  db: Queryable,
  accountId: string,
  key: string,
  status: number,
  response: unknown,
) {
  await db.query(
    'UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE account_id = $1 AND idem_key = $2',
    [accountId, key, status, JSON.stringify(response)],
  );
}

export async function dropKey(db: Queryable, accountId: string, key: string) {
  await db.query(
    'DELETE FROM idempotency_keys WHERE account_id = $1 AND idem_key = $2 AND status_code IS NULL',
    [accountId, key],
  );
}

/** Keys are answered for at least this long (docs/api.md); older ones may be purged. */
export const KEY_RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes idempotency keys created before `olderThan`, a batch at a time so that no statement holds many
 * row locks or a long snapshot; rows a running transaction holds are skipped. Returns how many went.
 * Once-only ledger keys (signup grants) live in ledger_entries and are never purged.
 */
export async function purgeIdempotencyKeys(
  db: Queryable,
  olderThan: Date,
  batchSize = 10_000,
): Promise<number> {
  let purged = 0;
  for (;;) {
    const { rowCount } = await db.query(
      `DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
         SELECT ctid FROM idempotency_keys WHERE created_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))`,
      [olderThan, batchSize],
    );
    purged += rowCount;
    if (rowCount < batchSize) return purged;
  }
}
