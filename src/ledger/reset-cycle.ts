// Ending the current cycle now (`credits reset-cycle`, POST /v1/cycle/reset): used starts again from 0, the
// next end is computed from now, and the ended cycle stays in history with its usage.
import { openAccountCycle, type CycleRow } from './cycle-rows.js';
import type { IdempotencySpec } from './idempotency.js';
import { ledgerTransaction } from './retry.js';
import type { Store } from '../state/store.js';

export async function resetCycle(
  store: Store,
  input: { accountId: string; now?: Date; idempotency?: IdempotencySpec },
): Promise<CycleRow> {
  const now = input.now ?? new Date();
  const cycle = await ledgerTransaction(store, input, (tx) =>
    openAccountCycle(tx, input.accountId, now, 'reset'),
  );
  // A replayed answer comes back as JSON: its instants are strings again.
  return {
    ...cycle,
    start: new Date(cycle.start),
    end: new Date(cycle.end),
    anchor: new Date(cycle.anchor),
  };
}
