// Concurrent usage events of one account share a transaction (SQL credits_record_usage_batch), so one commit
// and one WAL flush serve many events. Batching is natural, not timed: an event goes at once when a batch
// slot is free and otherwise joins the next batch, so a lone caller waits for nothing.
import { retrying } from './retry.js';
import type { Store } from '../state/store.js';
import { reportUsageBatch } from './observe.js';

export interface UsageEventRow {
  email: string;
  credits: string | null;
  cost: string | null;
  model: string | null;
  metadata: Record<string, unknown> | null;
  key: string | null;
  hash: string;
  now: string;
}

/** What SQL credits_record_usage answers for one event, plus `blocked` (a refusal) from the batch. */
export type UsageOutcome =
  | { status: 'ok' | 'replay'; result: unknown }
  | { status: 'in-flight' | 'key-reused' | 'no-member' | 'cycle-ended' }
  | { status: 'no-counters'; cycle: number }
  | {
      status: 'blocked';
      level: 'member' | 'group' | 'account';
      /** What the member, group and account could still spend, read when the event was refused. */
      remaining: { member: string; group: string; account: string; rolledOver?: string };
    };

interface Pending {
  event: UsageEventRow;
  resolve(outcome: UsageOutcome): void;
  reject(err: unknown): void;
}

/** Below 64: every event is a subtransaction, and more than 64 overflow PostgreSQL's per-backend cache. */
export const MAX_BATCH = 32;
/** Batches of one account in flight at once; they lock in one global order, so they do not deadlock. */
export const MAX_IN_FLIGHT = 4;

const SQL = 'SELECT credits_record_usage_batch($1, $2::jsonb) AS r';

class UsageBatches {
  private readonly queues = new Map<string, Pending[]>();
  private readonly running = new Map<string, number>();

  constructor(private readonly store: Store) {}

  submit(accountId: string, event: UsageEventRow): Promise<UsageOutcome> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(accountId);
      if (!queue) this.queues.set(accountId, (queue = []));
      queue.push({ event, resolve, reject });
      this.pump(accountId);
    });
  }

  private pump(accountId: string): void {
    const queue = this.queues.get(accountId);
    let running = this.running.get(accountId) ?? 0;
    while (queue?.length && running < MAX_IN_FLIGHT) {
      const batch = queue.splice(0, MAX_BATCH);
      running++;
      void this.run(accountId, batch).finally(() => {
        this.setRunning(accountId, this.running.get(accountId)! - 1);
        this.pump(accountId);
      });
    }
    this.setRunning(accountId, running);
    if (queue && !queue.length) this.queues.delete(accountId);
  }

  /** Idle accounts leave no entry behind. */
  private setRunning(accountId: string, n: number): void {
    if (n > 0) this.running.set(accountId, n);
    else this.running.delete(accountId);
  }

  private async run(accountId: string, batch: Pending[]): Promise<void> {
    let outcomes: UsageOutcome[];
    try {
      outcomes = await this.send(
        accountId,
        batch.map((p, ord) => ({ ord, ...p.event })),
      );
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      // One event's failure (a value the server refuses) must not fail its neighbours: alone, each
      // event succeeds or fails on its own.
      await Promise.all(batch.map((p) => this.run(accountId, [p])));
      return;
    }
    batch.forEach((p, i) => p.resolve(outcomes[i]!));
    reportUsageBatch(this.store, outcomes);
  }

  private async send(
    accountId: string,
    events: (UsageEventRow & { ord: number })[],
  ): Promise<UsageOutcome[]> {
    const { rows } = await retrying(() =>
      this.store.query<{ r: UsageOutcome[] }>(SQL, [accountId, JSON.stringify(events)]),
    );
    return rows[0]!.r;
  }
}

const byStore = new WeakMap<Store, UsageBatches>();

/** Records one event through the store's batches; resolves when its batch has committed. */
export function submitUsage(store: Store, accountId: string, event: UsageEventRow): Promise<UsageOutcome> {
  let batches = byStore.get(store);
  if (!batches) byStore.set(store, (batches = new UsageBatches(store)));
  return batches.submit(accountId, event);
}
