// Many usage events of one request (POST /v1/usage/batch) in a few statements: chunks of CHUNK events go
// to SQL credits_record_usage_fast_only (migration 014), the set-wise fast path alone; a chunk it does not
// settle goes through credits_record_usage_batch in batches of MAX_BATCH, as concurrent single events do.
// Chunks are sent one after another, so a request's events are evaluated in their order.
import { valueError } from './value-error.js';
import { CreditsError, isCreditsError } from '../errors.js';
import { retrying } from './retry.js';
import { MAX_BATCH, type UsageEventRow, type UsageOutcome } from './usage-batches.js';
import { repairUsage, USAGE_ATTEMPTS, usageAnswer, type UsageResult } from './usage.js';
import type { Store } from '../state/store.js';

/**
 * Events per fast-path statement. Each holds an advisory lock per idempotency key until it commits, in the
 * server's shared lock table (max_locks_per_transaction × max_connections slots): a pool of 10 connections
 * holds at most 2,500 of them.
 */
export const CHUNK = 250;

/** One event's answer: its result, or the coded error POST /v1/usage would have answered. */
export type UsageAnswer = { result: UsageResult } | { error: CreditsError };

const FAST = 'SELECT credits_record_usage_fast_only($1, $2::jsonb) AS r';
const ONE_BY_ONE = 'SELECT credits_record_usage_batch($1, $2::jsonb) AS r';

const send = async (
  store: Store,
  sql: string,
  accountId: string,
  events: UsageEventRow[],
): Promise<UsageOutcome[] | null> => {
  const json = JSON.stringify(events.map((e, ord) => ({ ord, ...e })));
  const { rows } = await retrying(() => store.query<{ r: UsageOutcome[] | null }>(sql, [accountId, json]));
  return rows[0]!.r;
};

/** Outcomes of events that did not fit the fast path, MAX_BATCH at a time; a failing batch goes event by event. */
async function oneByOne(
  store: Store,
  accountId: string,
  events: UsageEventRow[],
): Promise<(UsageOutcome | CreditsError)[]> {
  const out: (UsageOutcome | CreditsError)[] = [];
  for (let i = 0; i < events.length; i += MAX_BATCH) {
    const batch = events.slice(i, i + MAX_BATCH);
    try {
      out.push(...(await send(store, ONE_BY_ONE, accountId, batch))!);
    } catch (err) {
      const coded = valueError(err);
      if (!coded) throw err;
      if (batch.length === 1) out.push(coded);
      else for (const event of batch) out.push(...(await oneByOne(store, accountId, [event])));
    }
  }
  return out;
}

async function chunkOutcomes(
  store: Store,
  accountId: string,
  events: UsageEventRow[],
): Promise<(UsageOutcome | CreditsError)[]> {
  try {
    const fast = await send(store, FAST, accountId, events);
    if (fast) return fast;
  } catch (err) {
    if (!valueError(err)) throw err; // the events one by one say which of them the database refuses
  }
  return oneByOne(store, accountId, events);
}

/**
 * Records the events of one account in order and answers each: a result, or the coded error of that event
 * alone. A failure of the database itself fails the whole call; the events recorded before it stay
 * recorded, and a retry with the same keys replays them.
 */
export async function recordUsageEvents(
  store: Store,
  accountId: string,
  events: UsageEventRow[],
  now: Date,
): Promise<UsageAnswer[]> {
  const answers: UsageAnswer[] = new Array(events.length);
  for (let start = 0; start < events.length; start += CHUNK) {
    let pending = events.slice(start, start + CHUNK).map((_, i) => start + i);
    for (let attempt = 0; pending.length && attempt < USAGE_ATTEMPTS; attempt++) {
      const outcomes = await chunkOutcomes(
        store,
        accountId,
        pending.map((i) => events[i]!),
      );
      const again: number[] = [];
      const repairs = new Map<string, { outcome: UsageOutcome; email: string }>();
      pending.forEach((i, k) => {
        const outcome = outcomes[k]!;
        if (outcome instanceof CreditsError) return void (answers[i] = { error: outcome });
        try {
          const result = usageAnswer(outcome, events[i]!.email);
          if (result) return void (answers[i] = { result });
          again.push(i);
          const what = outcome.status === 'no-counters' ? `counters:${events[i]!.email}` : 'cycle';
          repairs.set(what, { outcome, email: events[i]!.email });
        } catch (err) {
          if (!isCreditsError(err)) throw err;
          answers[i] = { error: err };
        }
      });
      for (const { outcome, email } of repairs.values()) {
        await repairUsage(store, accountId, outcome, email, now);
      }
      pending = again;
    }
    for (const i of pending) answers[i] = { error: new CreditsError('INTERNAL') };
  }
  return answers;
}
