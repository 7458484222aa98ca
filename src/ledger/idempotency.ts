// Idempotency keys for ledger writes: same key + same request → the first result again; same key with a
// different request → IDEMPOTENCY_KEY_REUSED; a duplicate while the first is still running → IN_FLIGHT.
// Every key is stored in the transaction of the effect it answers for.
import { hash } from 'node:crypto';
import { CreditsError } from '../errors.js';
import type { Queryable } from '../state/store.js';
import { report } from './observe.js';

const replayed = (o: { idempotencyReplay(): void }) => o.idempotencyReplay();

// The one-shot hash(): no Hash object per request.
export const requestHash = (value: unknown): string => hash('sha256', JSON.stringify(value), 'hex');

/** An Idempotency-Key and the hash of the request it came with. */
export interface IdempotencySpec {
  key: string;
  hash: string;
}

/**
 * A row without an answer is a claim of the earlier claim-then-act scheme, written outside its effect's
 * transaction: once older than this its process is taken to have died, and a retry runs (docs/ledger.md,
 * "Idempotency"). Keys are written only with their answers now, so only such leftovers ever wait for it.
 */
export const CLAIM_LEASE_SECONDS = 30;

/**
 * Runs fn inside the caller's transaction under a transaction-scoped advisory lock on the key. The stored
 * result commits with fn's writes, so a replay can never see a result whose effects were rolled back, and a
 * process that dies mid-request leaves nothing behind: its transaction, lock included, is rolled back.
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
  const seen = await tx.query<{
    request_hash: string;
    response: T;
    status_code: number | null;
    expired: boolean;
  }>(
    `SELECT request_hash, response, status_code,
            created_at < now() - make_interval(secs => $3) AS expired
       FROM idempotency_keys WHERE account_id = $1 AND idem_key = $2`,
    [accountId, key, CLAIM_LEASE_SECONDS],
  );
  const first = seen.rows[0];
  if (first?.status_code === null) {
    if (!first.expired) throw new CreditsError('IDEMPOTENCY_IN_FLIGHT');
    await tx.query('DELETE FROM idempotency_keys WHERE account_id = $1 AND idem_key = $2', [accountId, key]);
  } else if (first) {
    if (first.request_hash !== hash) throw new CreditsError('IDEMPOTENCY_KEY_REUSED');
    report(tx, replayed);
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

/** idempotent() for callers whose key may be absent: without one, fn simply runs. */
export const once = <T>(
  tx: Queryable,
  accountId: string,
  spec: IdempotencySpec | undefined,
  fn: () => Promise<T>,
): Promise<T> => idempotent(tx, accountId, spec?.key, spec?.hash ?? '', fn);

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
