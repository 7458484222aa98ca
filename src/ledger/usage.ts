// Recording usage: one append-only ledger entry per event, charged to every budget level it draws on.
import { ledgerTransaction } from './retry.js';
import { CreditsError } from '../errors.js';
import { canonical } from '../decimal.js';
import { requestHash } from './idempotency.js';
import { BudgetExceeded, creditsForCost } from './spend.js';
import { submitUsage, type UsageEventRow, type UsageOutcome } from './usage-batches.js';
import { ensureCurrentCycle } from './cycle-rows.js';
import { ensureCycleCounters, ensureMemberCounter } from './capacities.js';
import type { Store } from '../state/store.js';

export interface UsageInput {
  accountId: string;
  member: string;
  credits?: string;
  costUsd?: string;
  model?: string;
  metadata?: Record<string, unknown>;
  idempotencyKey?: string;
  now?: Date;
}

export interface UsageResult {
  id: string;
  member: string;
  credits: string;
  charged: boolean;
  remaining: { member: string; group: string; account: string; rolledOver?: string };
}

export function usageCredits(input: { credits?: string; costUsd?: string }, factor: string): string {
  if (input.credits !== undefined) return canonical(input.credits);
  if (input.costUsd !== undefined) return creditsForCost(input.costUsd, factor);
  throw new CreditsError('VALIDATION_FAILED', { reason: 'give credits or costUsd' });
}

/** The row SQL records for an event: its e-mail in lower case and the hash its idempotency key answers for. */
export function usageEvent(input: UsageInput): UsageEventRow {
  const now = input.now ?? new Date();
  const email = input.member.toLowerCase();
  const { idempotencyKey: key, now: _now, ...request } = input;
  if (input.credits === undefined && input.costUsd === undefined) {
    throw new CreditsError('VALIDATION_FAILED', { reason: 'give credits or costUsd' });
  }
  return {
    email,
    credits: input.credits ?? null,
    cost: input.costUsd ?? null,
    model: input.model ?? null,
    metadata: input.metadata ?? null,
    key: key ?? null,
    hash: requestHash({ op: 'usage', ...request, member: email }),
    now: now.toISOString(),
  };
}

/**
 * What an outcome answers: the result, a coded error thrown, or undefined when the event must be submitted
 * again after repairUsage (a cycle to roll over, counters to create).
 */
export function usageAnswer(outcome: UsageOutcome, email: string): UsageResult | undefined {
  switch (outcome.status) {
    case 'ok':
    case 'replay':
      return outcome.result as UsageResult;
    case 'blocked':
      // The batch that refused the event read what remains: a refusal costs no second round trip.
      throw new BudgetExceeded(outcome.level, outcome.remaining);
    case 'in-flight':
      throw new CreditsError('IDEMPOTENCY_IN_FLIGHT');
    case 'key-reused':
      throw new CreditsError('IDEMPOTENCY_KEY_REUSED');
    case 'no-member':
      throw new CreditsError('MEMBER_NOT_FOUND', { email });
    case 'cycle-ended':
    case 'no-counters':
      return undefined;
  }
}

/** Rolls the cycle over or creates the counters an outcome asked for, before the event goes again. */
export async function repairUsage(
  store: Store,
  accountId: string,
  outcome: UsageOutcome,
  email: string,
  now: Date,
): Promise<void> {
  if (outcome.status === 'cycle-ended') {
    await ledgerTransaction(store, { accountId }, (tx) => ensureCurrentCycle(tx, accountId, now));
  } else if (outcome.status === 'no-counters') {
    await ledgerTransaction(store, { accountId }, async (tx) => {
      await ensureCycleCounters(tx, accountId, outcome.cycle);
      await ensureMemberCounter(tx, accountId, outcome.cycle, email);
    });
  }
}

/** Times an event is submitted before giving up: a repair, then a cycle that ended meanwhile, then once more. */
export const USAGE_ATTEMPTS = 4;

/**
 * Records one usage event. The common case is one round trip shared with concurrent events (SQL
 * credits_record_usage_batch, see usage-batches.ts); a cycle to roll over or counters to create are handled
 * here, then the event is submitted again.
 */
export async function recordUsage(store: Store, input: UsageInput): Promise<UsageResult> {
  const now = input.now ?? new Date();
  const event = usageEvent(input);
  for (let attempt = 0; attempt < USAGE_ATTEMPTS; attempt++) {
    const outcome = await submitUsage(store, input.accountId, event);
    const result = usageAnswer(outcome, event.email);
    if (result) return result;
    await repairUsage(store, input.accountId, outcome, event.email, now);
  }
  throw new CreditsError('INTERNAL');
}
