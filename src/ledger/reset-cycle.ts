// Ending the current cycle now (`credits reset-cycle`, POST /v1/cycle/reset): used starts again from 0, the
// next end is computed from now, and the ended cycle stays in history with its usage.
import { CreditsError } from '../errors.js';
import { openCycle, type CycleRow } from './cycles.js';
import { ledgerTransaction } from './retry.js';
import type { Store } from '../state/store.js';

export async function resetCycle(store: Store, input: { accountId: string; now?: Date }): Promise<CycleRow> {
  const now = input.now ?? new Date();
  return ledgerTransaction(store, async (tx) => {
    const { rows } = await tx.query<{ cadence: string; timezone: string }>(
      'SELECT cadence, timezone FROM accounts WHERE account_id = $1 FOR UPDATE',
      [input.accountId],
    );
    const acct = rows[0];
    if (!acct) throw new CreditsError('ACCOUNT_NOT_FOUND', { account: input.accountId });
    return openCycle(tx, input.accountId, acct.cadence, acct.timezone, now, 'reset');
  });
}
