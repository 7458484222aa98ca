// The account's locks, taken in one order by every transaction (docs/ledger.md, "One lock order"):
//   1. declared state  advisory `credits.apply:<account>`: exclusive for apply and admin edits, shared for
//                      every ledger transaction (it derives capacities from the declared state)
//   2. the account row (apply, admin edits, reset)
//   3. cycles          advisory `credits.cycle:<account>`: opening a cycle (rollover, reset, cadence change)
//   4. one request or reservation row
//   5. budget counters: auto, member, pool, signup, group, account; within a scope by slice
// A transaction may skip levels but never goes back to a lower number.
import type { Queryable } from '../state/store.js';

/** Level 1, shared: declared state cannot change until this transaction ends. */
export async function shareDeclaredState(tx: Queryable, accountId: string): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock_shared(hashtextextended('credits.apply:' || $1, 0))", [
    accountId,
  ]);
}

/** Level 1, exclusive: for apply and admin edits, which change the declared state. */
export async function lockDeclaredState(tx: Queryable, accountId: string): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('credits.apply:' || $1, 0))", [accountId]);
}

/** Level 3: opening a cycle; whoever holds it reads the latest cycle afresh. */
export async function lockCycles(tx: Queryable, accountId: string): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('credits.cycle:' || $1, 0))", [accountId]);
}
