// Recording usage: one append-only ledger entry per event, charged to every budget level it draws on.
import { ledgerTransaction } from './retry.js';
import { CreditsError } from '../errors.js';
import { canonical } from '../decimal.js';
import { requestHash } from './idempotency.js';
import { BudgetExceeded, creditsForCost } from './spend.js';
import { submitUsage, type UsageEventRow } from './usage-batches.js';
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
  remaining: { member: string; group: string; account: string };
}

export function usageCredits(input: { credits?: string; costUsd?: string }, factor: string): string {
  if (input.credits !== undefined) return canonical(input.credits);
  if (input.costUsd !== undefined) return creditsForCost(input.costUsd, factor);
  throw new CreditsError('VALIDATION_FAILED', { reason: 'give credits or costUsd' });
}

/**
 * Records one usage event. The common case is one round trip shared with concurrent events (SQL
 * credits_record_usage_batch, see usage-batches.ts); a cycle to roll over or counters to create are handled
 * here, then the event is submitted again.
 */
export async function recordUsage(store: Store, input: UsageInput): Promise<UsageResult> {
  const now = input.now ?? new Date();
  const email = input.member.toLowerCase();
  const { idempotencyKey: key, now: _now, ...request } = input;
  if (input.credits === undefined && input.costUsd === undefined) {
    throw new CreditsError('VALIDATION_FAILED', { reason: 'give credits or costUsd' });
  }
  const hash = requestHash({ op: 'usage', ...request, member: email });
  const event: UsageEventRow = {
    email,
    credits: input.credits ?? null,
    cost: input.costUsd ?? null,
    model: input.model ?? null,
    metadata: input.metadata ?? null,
    key: key ?? null,
    hash,
    now: now.toISOString(),
  };
  for (let attempt = 0; attempt < 4; attempt++) {
    const outcome = await submitUsage(store, input.accountId, event);
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
        await ledgerTransaction(store, input, (tx) => ensureCurrentCycle(tx, input.accountId, now));
        break;
      case 'no-counters':
        await ledgerTransaction(store, input, async (tx) => {
          await ensureCycleCounters(tx, input.accountId, outcome.cycle);
          await ensureMemberCounter(tx, input.accountId, outcome.cycle, email);
        });
        break;
    }
  }
  throw new CreditsError('INTERNAL');
}
