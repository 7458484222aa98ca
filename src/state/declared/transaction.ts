// Every write of declared rows (apply, a saved plan, an admin edit of a group, member or setting) runs in one
// of these: one transaction, run again as a whole when PostgreSQL aborted it as a deadlock victim
// (src/ledger/retry.ts), that first takes the account's declared-state lock exclusively (level 1 of the one
// lock order, src/ledger/locks.ts): applies and edits of one account are serialised, and ledger writes wait.
// The lock is released at commit or rollback.
import { CreditsError } from '../../errors.js';
import { lockDeclaredState } from '../../ledger/locks.js';
import { retriedTransaction } from '../../ledger/retry.js';
import type { Queryable, Store } from '../store.js';

export const declaredTransaction = <T>(
  store: Store,
  accountId: string,
  fn: (tx: Queryable) => Promise<T>,
): Promise<T> =>
  retriedTransaction(store, async (tx) => {
    await lockDeclaredState(tx, accountId);
    return fn(tx);
  });

/** Level 2 of the lock order for an admin edit: the account row, which must exist and not be managed by git. */
export async function lockEditableAccount(tx: Queryable, accountId: string): Promise<void> {
  const { rows } = await tx.query<{ managed_by: string | null }>(
    'SELECT managed_by FROM accounts WHERE account_id = $1 FOR UPDATE',
    [accountId],
  );
  if (!rows[0]) throw new CreditsError('ACCOUNT_NOT_FOUND', { account: accountId });
  if (rows[0].managed_by === 'git') throw new CreditsError('MANAGED_BY_GIT', { field: 'this account' });
}

/** Level 2 of the lock order for an apply: what the account looks like under the lock (undefined: none). */
export async function lockAccountHead(
  tx: Queryable,
  accountId: string,
): Promise<{ stateSerial: number; declaredVersion: number } | undefined> {
  const { rows } = await tx.query<{
    state_serial: string;
    declared_version: string;
    applied_declared_version: string | null;
  }>(
    'SELECT state_serial, declared_version, applied_declared_version FROM accounts WHERE account_id = $1 FOR UPDATE',
    [accountId],
  );
  const row = rows[0];
  return row && { stateSerial: Number(row.state_serial), declaredVersion: Number(row.declared_version) };
}
