// The cycle in force for an account, rolled over lazily and deterministically: no cron. A request after the
// end opens the cycle containing "now" directly (idle gaps skip empty cycles by index arithmetic).
import { CreditsError } from '../errors.js';
import { parseCadence } from '../config/cadence.js';
import { cycleContaining } from './cycle.js';
import type { Queryable } from '../state/store.js';

export type CycleReason = 'created' | 'cadence-change' | 'reset' | 'rollover';

export interface CycleRow {
  cycleNo: number;
  start: Date;
  end: Date;
  cadence: string;
  timezone: string;
  anchor: Date;
}

interface Row {
  cycle_no: string;
  starts_at: Date;
  ends_at: Date;
  cadence: string;
  timezone: string;
  anchor_at: Date;
}
const toCycle = (r: Row): CycleRow => ({
  cycleNo: Number(r.cycle_no),
  start: r.starts_at,
  end: r.ends_at,
  cadence: r.cadence,
  timezone: r.timezone,
  anchor: r.anchor_at,
});

const cadenceOf = (text: string) => {
  const cadence = parseCadence(text);
  if (!cadence) throw new CreditsError('UNKNOWN_CADENCE', { value: text });
  return cadence;
};

export async function latestCycle(db: Queryable, accountId: string): Promise<CycleRow | undefined> {
  const { rows } = await db.query<Row>(
    `SELECT cycle_no, starts_at, ends_at, cadence, timezone, anchor_at FROM cycles
      WHERE account_id = $1 ORDER BY cycle_no DESC LIMIT 1`,
    [accountId],
  );
  return rows[0] ? toCycle(rows[0]) : undefined;
}

/**
 * The cycle containing `now`, creating it when the last one has ended. Numbering counts skipped empty
 * cycles, so cycle_no - 1 is always the cycle before, whether or not it had a row.
 */
export async function currentCycle(db: Queryable, accountId: string, now: Date): Promise<CycleRow> {
  const last = await latestCycle(db, accountId);
  if (!last) throw new CreditsError('ACCOUNT_NOT_FOUND', { account: accountId });
  if (now < last.end) return last;
  const cadence = cadenceOf(last.cadence);
  const window = cycleContaining(last.anchor, cadence, last.timezone, now);
  const lastWindow = cycleContaining(last.anchor, cadence, last.timezone, new Date(last.end.getTime() - 1));
  const cycleNo = last.cycleNo + Math.max(1, window.index - lastWindow.index);
  // Concurrent callers may race to open the same cycle: the primary key makes one row win.
  await db.query(
    `INSERT INTO cycles (account_id, cycle_no, starts_at, ends_at, cadence, timezone, reason, anchor_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'rollover', $7) ON CONFLICT DO NOTHING`,
    [accountId, cycleNo, window.start, window.end, last.cadence, last.timezone, last.anchor],
  );
  return (await latestCycle(db, accountId))!;
}

/** Starts a fresh cycle now (new account, cadence change, reset): the current one ends now; history stays. */
export async function openCycle(
  db: Queryable,
  accountId: string,
  cadenceText: string,
  timezone: string,
  now: Date,
  reason: Exclude<CycleReason, 'rollover'>,
): Promise<CycleRow> {
  const cadence = cadenceOf(cadenceText);
  // Anchored at now: a fixed cadence runs now + k·length; a calendar month still ends at the next 1st.
  const end = cycleContaining(now, cadence, timezone, now).end;
  await db.query(
    `UPDATE cycles SET ends_at = $2
      WHERE account_id = $1 AND cycle_no = (SELECT max(cycle_no) FROM cycles WHERE account_id = $1) AND ends_at > $2`,
    [accountId, now],
  );
  await db.query(
    `INSERT INTO cycles (account_id, cycle_no, starts_at, ends_at, cadence, timezone, reason, anchor_at)
     SELECT $1, coalesce(max(cycle_no), 0) + 1, $2, $3, $4, $5, $6, $2 FROM cycles WHERE account_id = $1`,
    [accountId, now, end, cadenceText, timezone, reason],
  );
  return (await latestCycle(db, accountId))!;
}

/**
 * openCycle with the account's cadence and time zone as they stand in this transaction (a reset, or after a
 * write that changed them). Locks the account row, which apply and admin edits hold already.
 */
export async function openAccountCycle(
  db: Queryable,
  accountId: string,
  now: Date,
  reason: 'cadence-change' | 'reset',
): Promise<CycleRow> {
  const { rows } = await db.query<{ cadence: string; timezone: string }>(
    'SELECT cadence, timezone FROM accounts WHERE account_id = $1 FOR UPDATE',
    [accountId],
  );
  const acct = rows[0];
  if (!acct) throw new CreditsError('ACCOUNT_NOT_FOUND', { account: accountId });
  return openCycle(db, accountId, acct.cadence, acct.timezone, now, reason);
}
