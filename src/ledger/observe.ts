// What the ledger tells whoever watches a store (the API's metrics), without depending on any metrics
// library. Events that happen inside a transaction are held until it commits, so a rolled-back or retried
// transaction reports nothing: a cycle opened by a reservation that was then refused was never opened.
import type { Queryable, Store } from '../state/store.js';
import type { CycleReason } from './cycle-rows.js';
import type { UsageOutcome } from './usage-batches.js';

export type BlockedBy = 'member' | 'group' | 'account';

export interface LedgerObserver {
  /** A usage event written, or refused by the budget level that had too little. */
  usage(outcome: 'accepted' | BlockedBy): void;
  /** A batch of usage events sent in one round trip (src/ledger/usage-batches.ts). */
  usageBatch(size: number): void;
  /** A cycle row this process inserted, reported once committed. */
  cycleOpened(reason: CycleReason): void;
  /** A stored answer given again for a repeated Idempotency-Key. */
  idempotencyReplay(): void;
}

type Event = (observer: LedgerObserver) => void;
interface Pending {
  observers: LedgerObserver[];
  events: Event[] | undefined;
}

const byStore = new WeakMap<Store, LedgerObserver[]>();
const byTransaction = new WeakMap<Queryable, Pending>();

/** Watches the ledger's work on `store`; returns the function that stops watching. */
export function observeLedger(store: Store, observer: LedgerObserver): () => void {
  const list = byStore.get(store) ?? [];
  byStore.set(store, [...list, observer]);
  return () => {
    const rest = (byStore.get(store) ?? []).filter((o) => o !== observer);
    if (rest.length) byStore.set(store, rest);
    else byStore.delete(store);
  };
}

/**
 * A committed batch of usage events (one statement of SQL credits_record_usage_batch or alike): its size, each
 * event written or refused, each replay. Every path that records usage in SQL reports here.
 */
export function reportUsageBatch(store: Store, outcomes: readonly UsageOutcome[]): void {
  const observers = byStore.get(store);
  if (!observers) return;
  for (const observer of observers) {
    observer.usageBatch(outcomes.length);
    for (const outcome of outcomes) {
      if (outcome.status === 'ok') observer.usage('accepted');
      else if (outcome.status === 'blocked') observer.usage(outcome.level);
      else if (outcome.status === 'replay') observer.idempotencyReplay();
    }
  }
}

/** Whether anything would hear an event on `db` (a store or a transaction of one). */
export const isObserved = (db: Queryable): boolean => byTransaction.has(db) || byStore.has(db as Store);

/** Reports an event on `db`: at once on a store, at commit on a transaction of an observed store. */
export function report(db: Queryable, event: Event): void {
  const pending = byTransaction.get(db);
  if (pending) (pending.events ??= []).push(event);
  else byStore.get(db as Store)?.forEach(event);
}

/** store.transaction(fn), reporting the events of fn once the transaction has committed. */
export async function observedTransaction<T>(store: Store, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  const observers = byStore.get(store);
  if (!observers) return store.transaction(fn);
  const pending: Pending = { observers, events: undefined };
  const value = await store.transaction((tx) => {
    byTransaction.set(tx, pending);
    return fn(tx);
  });
  pending.events?.forEach((event) => observers.forEach(event));
  return value;
}
