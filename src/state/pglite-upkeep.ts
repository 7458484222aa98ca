// PGlite runs PostgreSQL single-user, where neither autovacuum nor autoanalyze ever runs: what they would do
// is done here, by the writers that make it needed. A no-op on PostgreSQL.
import type { Store } from './store.js';

/** A PGlite apply with at least this many changes refreshes the planner's statistics. */
export const ANALYZE_AFTER_CHANGES = 500;

/** After an apply committed: best effort, since the apply is done whatever happens here. */
export async function upkeepAfterApply(
  store: Store,
  applied: { keptText: boolean; changes: number },
): Promise<void> {
  if (store.kind !== 'pglite') return;
  // Without this each apply would leave the previous file text (megabytes for a large file) behind as dead
  // rows for good.
  if (applied.keptText) await store.exec('VACUUM applied_files').catch(() => {}); // at worst space is kept
  // After a large apply the planner would still see the tables as nearly empty and scan them (measured on 100k
  // members: 3 s per members page, 62 ms per usage event, against 91 ms and 2 ms with statistics).
  if (applied.changes >= ANALYZE_AFTER_CHANGES) {
    // The tables an apply fills; the audit log is read by key only and would double the time.
    await store.exec('ANALYZE members, groups, accounts, budget_counters').catch(() => {});
  }
}

/** Statistics for the whole database (`credits serve` at start and hourly). */
export async function analyzeEmbedded(store: Store): Promise<void> {
  if (store.kind === 'pglite') await store.exec('ANALYZE');
}
