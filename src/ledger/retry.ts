// Ledger transactions are retried when PostgreSQL aborts them as a deadlock victim or on a serialisation
// failure: the whole transaction rolled back, so running it again is safe.
import type { Queryable, Store } from '../state/store.js';

const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 5;

export const ledgerTransaction = <T>(store: Store, fn: (tx: Queryable) => Promise<T>): Promise<T> =>
  retrying(() => store.transaction(fn));

/** Runs an operation that is one whole transaction (or one statement), again when it was aborted as a victim. */
export async function retrying<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (!code || !RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
    }
  }
}
