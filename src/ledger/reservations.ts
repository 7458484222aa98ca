// Reservations: hold an estimate against every budget level; settle the actual amount or release the hold.
// Holds expire after their TTL and are released lazily by the next write that meets them.
import { ledgerTransaction } from './retry.js';
import { randomUUID } from 'node:crypto';
import { CreditsError } from '../errors.js';
import { canonical } from '../decimal.js';
import { idempotent, requestHash, type IdempotencySpec } from './idempotency.js';
import {
  mergeCharges,
  partialRefund,
  refund,
  spend,
  spendContext,
  trackingOff,
  type Charges,
} from './spend.js';
import { dec } from '../decimal.js';
import { usageCredits } from './usage.js';
import type { Queryable, Store } from '../state/store.js';

export const DEFAULT_TTL_SECONDS = 300;

interface HoldRow {
  reservation_id: string;
  cycle_no: string;
  member_email: string;
  group_key: string;
  credits: string;
  status: string;
  expires_at: Date;
  charges: Charges;
}

export async function reserve(
  store: Store,
  input: {
    accountId: string;
    member: string;
    credits?: string;
    costUsd?: string;
    ttlSeconds?: number;
    idempotencyKey?: string;
    now?: Date;
  },
): Promise<{ id: string; credits: string; expiresAt: string }> {
  const now = input.now ?? new Date();
  const email = input.member.toLowerCase();
  const { idempotencyKey: key, now: _now, ...request } = input;
  // Expired holds go back first, in a transaction of their own: it must not hold their slices while charging.
  await ledgerTransaction(store, input, (tx) => expireHolds(tx, input.accountId, now));
  return ledgerTransaction(store, input, (tx) =>
    idempotent(tx, input.accountId, key, requestHash({ op: 'reserve', ...request }), async () => {
      const ctx = await spendContext(tx, input.accountId, email, now);
      const credits = usageCredits(input, ctx.creditFactor);
      const charges = trackingOff(ctx) ? {} : await spend(tx, ctx, credits);
      const id = randomUUID();
      const expiresAt = new Date(now.getTime() + (input.ttlSeconds ?? DEFAULT_TTL_SECONDS) * 1000);
      await tx.query(
        `INSERT INTO reservations (account_id, reservation_id, cycle_no, member_email, group_key, credits, expires_at, charges)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          input.accountId,
          id,
          ctx.cycle.cycleNo,
          email,
          ctx.group,
          credits,
          expiresAt,
          JSON.stringify(charges),
        ],
      );
      await entry(tx, input.accountId, ctx.cycle.cycleNo, email, ctx.group, 'hold', credits, charges, id);
      return { id, credits, expiresAt: expiresAt.toISOString() };
    }),
  );
}

async function entry(
  tx: Queryable,
  accountId: string,
  cycleNo: number,
  email: string,
  group: string,
  kind: string,
  credits: string,
  charges: Charges,
  reservationId: string,
): Promise<void> {
  await tx.query(
    `INSERT INTO ledger_entries (account_id, cycle_no, member_email, group_key, kind, credits, charges, reservation_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [accountId, cycleNo, email, group, kind, credits, JSON.stringify(charges), reservationId],
  );
}

/** The ledger's record of a hold given back in full. */
const releaseEntry = (tx: Queryable, accountId: string, cycleNo: number, hold: HoldRow): Promise<void> =>
  entry(
    tx,
    accountId,
    cycleNo,
    hold.member_email,
    hold.group_key,
    'hold-release',
    canonical(`-${hold.credits}`.replace('--', '')),
    negate(hold.charges),
    hold.reservation_id,
  );

const negate = (charges: Charges): Charges =>
  Object.fromEntries(Object.entries(charges).map(([k, v]) => [k, canonical(`-${v}`.replace('--', ''))]));

/** Locks a held reservation; throws when it is unknown or no longer held. */
async function lockHold(tx: Queryable, accountId: string, id: string): Promise<HoldRow> {
  const { rows } = await tx.query<HoldRow>(
    `SELECT reservation_id, cycle_no, member_email, group_key, credits, status, expires_at, charges
       FROM reservations WHERE account_id = $1 AND reservation_id = $2 FOR UPDATE`,
    [accountId, id],
  );
  const hold = rows[0];
  if (!hold) throw new CreditsError('NOT_FOUND', { what: `reservation ${id}` });
  if (hold.status !== 'held') throw new CreditsError('RESERVATION_NOT_HELD', { id, status: hold.status });
  return hold;
}

async function releaseHold(tx: Queryable, accountId: string, hold: HoldRow, status: string): Promise<void> {
  await refund(tx, { accountId, cycleNo: Number(hold.cycle_no) }, hold.charges);
  await tx.query('UPDATE reservations SET status = $3 WHERE account_id = $1 AND reservation_id = $2', [
    accountId,
    hold.reservation_id,
    status,
  ]);
  await releaseEntry(tx, accountId, Number(hold.cycle_no), hold);
}

export async function release(
  store: Store,
  input: { accountId: string; id: string; idempotency?: IdempotencySpec },
): Promise<{ id: string; status: string }> {
  return ledgerTransaction(store, input, async (tx) => {
    const hold = await lockHold(tx, input.accountId, input.id);
    await releaseHold(tx, input.accountId, hold, 'released');
    return { id: input.id, status: 'released' };
  });
}

/**
 * Settles a hold at the actual amount: less gives the difference back, more charges the difference (only if
 * budgets allow). Never a refund and a charge on the same scope, so the lock order holds. A settle belongs to
 * its hold's cycle, whenever it comes: the release, the usage and any extra charge are all recorded in and
 * charged to the cycle the hold was made in (docs/ledger.md, "Reservations").
 */
export async function settle(
  store: Store,
  input: {
    accountId: string;
    id: string;
    credits?: string;
    costUsd?: string;
    now?: Date;
    idempotency?: IdempotencySpec;
  },
): Promise<{ id: string; status: string; credits: string }> {
  const now = input.now ?? new Date();
  return ledgerTransaction(store, input, async (tx) => {
    const hold = await lockHold(tx, input.accountId, input.id);
    if (hold.expires_at <= now) {
      await releaseHold(tx, input.accountId, hold, 'expired');
      return { id: input.id, status: 'expired', credits: '0' };
    }
    const ctx = await spendContext(tx, input.accountId, hold.member_email, now);
    const credits = usageCredits(input, ctx.creditFactor);
    const cycleNo = Number(hold.cycle_no);
    let final: Charges = hold.charges;
    if (Object.keys(hold.charges).length > 0 || !trackingOff(ctx)) {
      const diff = dec(credits).minus(hold.credits);
      if (diff.isNegative()) {
        const back = partialRefund(hold.charges, canonical(diff.negated()));
        await refund(tx, { accountId: input.accountId, cycleNo }, back);
        final = mergeCharges(hold.charges, negate(back));
      } else if (diff.greaterThan(0)) {
        final = mergeCharges(hold.charges, await spend(tx, ctx, canonical(diff), cycleNo));
      }
    }
    await tx.query(
      "UPDATE reservations SET status = 'settled', settled_credits = $3 WHERE account_id = $1 AND reservation_id = $2",
      [input.accountId, input.id, credits],
    );
    // The ledger shows the hold given back in full and the usage charged in full; the counters moved by the net.
    await releaseEntry(tx, input.accountId, cycleNo, hold);
    await entry(
      tx,
      input.accountId,
      cycleNo,
      hold.member_email,
      hold.group_key,
      'usage',
      credits,
      final,
      hold.reservation_id,
    );
    return { id: input.id, status: 'settled', credits };
  });
}

/** Releases every hold of the account whose TTL has passed: one refund per scope, in lock order. */
export async function expireHolds(tx: Queryable, accountId: string, now: Date): Promise<number> {
  const { rows } = await tx.query<HoldRow>(
    `SELECT reservation_id, cycle_no, member_email, group_key, credits, status, expires_at, charges
       FROM reservations WHERE account_id = $1 AND status = 'held' AND expires_at <= $2
       ORDER BY reservation_id LIMIT 100 FOR UPDATE SKIP LOCKED`,
    [accountId, now],
  );
  const byCycle = new Map<number, Charges>();
  for (const hold of rows) {
    const no = Number(hold.cycle_no);
    byCycle.set(no, mergeCharges(byCycle.get(no) ?? {}, hold.charges));
    await tx.query(
      "UPDATE reservations SET status = 'expired' WHERE account_id = $1 AND reservation_id = $2",
      [accountId, hold.reservation_id],
    );
    await releaseEntry(tx, accountId, no, hold);
  }
  for (const [cycleNo, charges] of byCycle) await refund(tx, { accountId, cycleNo }, charges);
  return rows.length;
}
