// Recording usage: one append-only ledger entry per event, charged to every budget level it draws on.
import { ledgerTransaction } from './retry.js';
import { CreditsError } from '../errors.js';
import { canonical, dec } from '../decimal.js';
import { idempotent, requestHash } from './idempotency.js';
import {
  creditsForCost,
  remainingFor,
  spend,
  spendContext,
  trackingOff,
  BudgetExceeded,
  type Charges,
} from './spend.js';
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

export async function recordUsage(store: Store, input: UsageInput): Promise<UsageResult> {
  const now = input.now ?? new Date();
  const email = input.member.toLowerCase();
  const { idempotencyKey: key, now: _now, ...request } = input;
  try {
    return await ledgerTransaction(store, (tx) =>
      idempotent(tx, input.accountId, key, requestHash({ op: 'usage', ...request }), async () => {
        const ctx = await spendContext(tx, input.accountId, email, now);
        const credits = usageCredits(input, ctx.creditFactor);
        if (dec(credits).isNegative())
          throw new CreditsError('VALIDATION_FAILED', { reason: 'credits must be ≥ 0' });
        // Tracking off (factor 0): recorded for reporting, nothing charged or enforced.
        const charges: Charges = trackingOff(ctx) ? {} : await spend(tx, ctx, credits);
        const { rows } = await tx.query<{ entry_id: string }>(
          `INSERT INTO ledger_entries (account_id, cycle_no, member_email, group_key, kind, credits, cost_usd, model,
                                       metadata, charges, idempotency_key)
           VALUES ($1, $2, $3, $4, 'usage', $5, $6, $7, $8, $9, $10) RETURNING entry_id`,
          [
            input.accountId,
            ctx.cycle.cycleNo,
            email,
            ctx.group,
            credits,
            input.costUsd ?? null,
            input.model ?? null,
            input.metadata ? JSON.stringify(input.metadata) : null,
            JSON.stringify(charges),
            key ?? null,
          ],
        );
        return {
          id: rows[0]!.entry_id,
          member: email,
          credits,
          charged: !trackingOff(ctx),
          remaining: await remainingFor(tx, ctx),
        };
      }),
    );
  } catch (err) {
    if (err instanceof BudgetExceeded) {
      // The transaction rolled back; report what is left as of now.
      const ctx = await ledgerTransaction(store, (tx) => spendContext(tx, input.accountId, email, now));
      err.details.remaining = await remainingFor(store, ctx);
    }
    throw err;
  }
}
