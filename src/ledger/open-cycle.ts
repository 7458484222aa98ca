// Starts a fresh cycle now (new account, cadence change, reset): the current one ends now, history is kept.
import { CreditsError } from '../errors.js';
import { parseCadence } from '../config/cadence.js';
import { cycleContaining } from './cycle.js';
import type { Queryable } from '../state/store.js';

export type CycleReason = 'created' | 'cadence-change' | 'reset' | 'rollover';

export async function openCycle(
  tx: Queryable,
  accountId: string,
  cadenceText: string,
  timezone: string,
  now: Date,
  reason: CycleReason,
): Promise<{ cycleNo: number; start: Date; end: Date }> {
  const cadence = parseCadence(cadenceText);
  if (!cadence) throw new CreditsError('UNKNOWN_CADENCE', { value: cadenceText });
  // Anchored at now: a fixed cadence runs now + k·length; a calendar month still ends at the next 1st.
  const end = cycleContaining(now, cadence, timezone, now).end;
  // Contiguity: the cycle in force ends exactly where the new one starts.
  await tx.query(
    `UPDATE cycles SET ends_at = $2
      WHERE account_id = $1 AND cycle_no = (SELECT max(cycle_no) FROM cycles WHERE account_id = $1) AND ends_at > $2`,
    [accountId, now],
  );
  const { rows } = await tx.query<{ cycle_no: string }>(
    `INSERT INTO cycles (account_id, cycle_no, starts_at, ends_at, cadence, timezone, reason)
     SELECT $1, coalesce(max(cycle_no), 0) + 1, $2, $3, $4, $5, $6 FROM cycles WHERE account_id = $1
     RETURNING cycle_no`,
    [accountId, now, end, cadenceText, timezone, reason],
  );
  return { cycleNo: Number(rows[0]!.cycle_no), start: now, end };
}
