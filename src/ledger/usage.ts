// Recording usage: one append-only ledger entry per event, charged to every budget level it draws on.
import { ledgerTransaction, retrying } from './retry.js';
import { CreditsError } from '../errors.js';
import { canonical } from '../decimal.js';
import { requestHash } from './idempotency.js';
import { budgetError, creditsForCost, remainingFor, spendContext } from './spend.js';
import { currentCycle } from './cycles.js';
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

type RecordStatus =
  | { status: 'ok' | 'replay'; result: UsageResult }
  | { status: 'in-flight' | 'key-reused' | 'no-member' | 'cycle-ended' }
  | { status: 'no-counters'; cycle: number };

/**
 * Records one usage event. The common case is one round trip (SQL credits_record_usage); a cycle to roll
 * over or counters to create are handled here, then the call is repeated.
 */
export async function recordUsage(store: Store, input: UsageInput): Promise<UsageResult> {
  const now = input.now ?? new Date();
  const email = input.member.toLowerCase();
  const { idempotencyKey: key, now: _now, ...request } = input;
  if (input.credits === undefined && input.costUsd === undefined) {
    throw new CreditsError('VALIDATION_FAILED', { reason: 'give credits or costUsd' });
  }
  const hash = requestHash({ op: 'usage', ...request, member: email });
  for (let attempt = 0; attempt < 4; attempt++) {
    let outcome: RecordStatus;
    try {
      // One statement is its own transaction: no BEGIN/COMMIT round trips on the hot path.
      outcome = await retrying(async () => {
        const { rows } = await store.query<{ r: RecordStatus }>(
          'SELECT credits_record_usage($1, $2, $3, $4, $5, $6, $7, $8, $9) AS r',
          [
            input.accountId,
            email,
            input.credits ?? null,
            input.costUsd ?? null,
            input.model ?? null,
            input.metadata ? JSON.stringify(input.metadata) : null,
            key ?? null,
            hash,
            now,
          ],
        );
        return rows[0]!.r;
      });
    } catch (err) {
      const blocked = budgetError(err);
      if (!blocked) throw err;
      const ctx = await ledgerTransaction(store, (tx) => spendContext(tx, input.accountId, email, now));
      blocked.details.remaining = await remainingFor(store, ctx);
      throw blocked;
    }
    switch (outcome.status) {
      case 'ok':
      case 'replay':
        return outcome.result;
      case 'in-flight':
        throw new CreditsError('IDEMPOTENCY_IN_FLIGHT');
      case 'key-reused':
        throw new CreditsError('IDEMPOTENCY_KEY_REUSED');
      case 'no-member':
        throw new CreditsError('MEMBER_NOT_FOUND', { email });
      case 'cycle-ended':
        await ledgerTransaction(store, (tx) => currentCycle(tx, input.accountId, now));
        break;
      case 'no-counters':
        await ledgerTransaction(store, async (tx) => {
          await ensureCycleCounters(tx, input.accountId, outcome.cycle);
          await ensureMemberCounter(tx, input.accountId, outcome.cycle, email);
        });
        break;
    }
  }
  throw new CreditsError('INTERNAL');
}
