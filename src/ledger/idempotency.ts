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
