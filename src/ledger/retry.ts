// Transactions are retried when PostgreSQL aborts them as a deadlock victim or on a serialisation failure:
// the whole transaction rolled back, so running it again is safe. Every writer goes through here; when the
// attempts run out the caller gets TRANSACTION_CONFLICT (503, retry later), never an internal error.
import { CreditsError } from '../errors.js';
import { once, type IdempotencySpec } from './idempotency.js';
import { shareDeclaredState } from './locks.js';
import { observedTransaction } from './observe.js';
import type { Queryable, Store } from '../state/store.js';

const RETRYABLE = new Set(['40P01', '40001']);
export const MAX_ATTEMPTS = 8;

export const isRetryable = (err: unknown): boolean => RETRYABLE.has((err as { code?: string }).code ?? '');

/**
 * A ledger write of one account: one transaction that first shares the account's declared-state lock (an
 * apply or admin edit waits for it, and it for them; src/ledger/locks.ts), retried when aborted as a victim.
 * With an Idempotency-Key the answer is stored in the same transaction (src/ledger/idempotency.ts).
 */
export const ledgerTransaction = <T>(
  store: Store,
  write: { accountId: string; idempotency?: IdempotencySpec },
  fn: (tx: Queryable) => Promise<T>,
): Promise<T> =>
  retriedTransaction(store, async (tx) => {
    await shareDeclaredState(tx, write.accountId);
    return once(tx, write.accountId, write.idempotency, () => fn(tx));
  });

/** One transaction, run again when PostgreSQL aborted it as a deadlock victim or serialisation failure. */
export const retriedTransaction = <T>(store: Store, fn: (tx: Queryable) => Promise<T>): Promise<T> =>
  retrying(() => observedTransaction(store, fn));

/** Runs an operation that is one whole transaction (or one statement), again when it was aborted as a victim. */
export async function retrying<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (err) {
      if (!isRetryable(err)) throw err;
      if (attempt >= MAX_ATTEMPTS) throw new CreditsError('TRANSACTION_CONFLICT', { attempts: attempt });
      // Jittered and growing, so that the same victims do not meet again at once.
      await new Promise((r) => setTimeout(r, Math.random() * 10 * 2 ** Math.min(attempt, 6)));
    }
  }
}
