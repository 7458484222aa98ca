// Ending the current cycle now (`credits reset-cycle`, POST /v1/cycle/reset): used starts again from 0, the
// next end is computed from now, and the ended cycle stays in history with its usage.
import { openAccountCycle, type CycleRow } from './cycles.js';
import { ledgerTransaction } from './retry.js';
import type { Store } from '../state/store.js';

export async function resetCycle(store: Store, input: { accountId: string; now?: Date }): Promise<CycleRow> {
  const now = input.now ?? new Date();
  return ledgerTransaction(store, input.accountId, (tx) =>
    openAccountCycle(tx, input.accountId, now, 'reset'),
  );
}
