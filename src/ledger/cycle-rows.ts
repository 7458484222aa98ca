// Cycle rows (the cycles table): the cycle in force for an account, rolled over lazily and deterministically,
// with no cron. A request after the end opens the cycle containing "now" directly (idle gaps skip empty
// cycles by index arithmetic).
import { CreditsError } from '../errors.js';
import { parseCadence } from '../config/cadence.js';
import { cycleContaining } from './cycle-windows.js';
import { lockCycles } from './locks.js';
import type { Queryable } from '../state/store.js';
import { isObserved, report } from './observe.js';

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
 * cycles, so cycle_no - 1 is always the cycle before, whether or not it had a row. The row is inserted by SQL
 * credits_open_rollover under the account's cycle lock, and only if no other cycle was opened since `last`
 * was read (a concurrent reset or rollover); then the loop looks again.
 */
export async function ensureCurrentCycle(db: Queryable, accountId: string, now: Date): Promise<CycleRow> {
  let last = await latestCycle(db, accountId);
  if (!last) throw new CreditsError('ACCOUNT_NOT_FOUND', { account: accountId });
  for (let attempt = 0; now >= last.end && attempt < 4; attempt++) {
    const cadence = cadenceOf(last.cadence);
    const window = cycleContaining(last.anchor, cadence, last.timezone, now);
    const lastWindow = cycleContaining(last.anchor, cadence, last.timezone, new Date(last.end.getTime() - 1));
    const cycleNo = last.cycleNo + Math.max(1, window.index - lastWindow.index);
    // The transaction id the rollover ran in, if it wrote anything: the function inserts nothing when
    // another cycle was opened meanwhile, and only the row's own xmin tells whose insert it was.
    const { rows } = await db.query<{ xid: string | null }>(
      `WITH rollover AS MATERIALIZED (SELECT credits_open_rollover($1, $2, $3, $4, $5, $6, $7, $8))
       SELECT pg_current_xact_id_if_assigned()::text AS xid FROM rollover`,
      [accountId, last.cycleNo, cycleNo, window.start, window.end, last.cadence, last.timezone, last.anchor],
    );
    last = (await latestCycle(db, accountId))!;
    const xid = rows[0]?.xid;
    if (
      xid &&
      last.cycleNo === cycleNo &&
      isObserved(db) &&
      (await insertedBy(db, accountId, cycleNo, xid))
    ) {
      report(db, openedByRollover);
    }
  }
  return last;
}

const openedByRollover = (o: { cycleOpened(reason: CycleReason): void }) => o.cycleOpened('rollover');

/** Whether the cycle row was inserted by transaction `xid` (a 64-bit id; xmin holds its low 32 bits). */
async function insertedBy(db: Queryable, accountId: string, cycleNo: number, xid: string): Promise<boolean> {
  const { rows } = await db.query<{ xmin: string }>(
    'SELECT xmin::text AS xmin FROM cycles WHERE account_id = $1 AND cycle_no = $2',
    [accountId, cycleNo],
  );
  return rows[0] !== undefined && BigInt(rows[0].xmin) === BigInt(xid) % 2n ** 32n;
}

/**
 * Starts a fresh cycle now (new account, cadence change, reset): the current one ends now; history stays.
 * Under the account's cycle lock, so resets, cadence changes and rollovers of one account run one at a time,
 * each on the latest cycle as it stands. When that cycle began at or after `now` (a reset that came later
 * took the lock first, or another process's clock is ahead), it already is the fresh cycle: it takes the
 * cadence and time zone given here and is anchored at its own start, instead of a new cycle that would end
 * before it starts.
 */
export async function openCycle(
  db: Queryable,
  accountId: string,
  cadenceText: string,
  timezone: string,
  now: Date,
  reason: Exclude<CycleReason, 'rollover'>,
): Promise<CycleRow> {
  const cadence = cadenceOf(cadenceText);
  await lockCycles(db, accountId);
  const last = await latestCycle(db, accountId);
  if (last && last.start >= now) {
    const end = cycleContaining(last.start, cadence, timezone, last.start).end;
    await db.query(
      `UPDATE cycles SET cadence = $3, timezone = $4, anchor_at = starts_at, ends_at = $5
        WHERE account_id = $1 AND cycle_no = $2`,
      [accountId, last.cycleNo, cadenceText, timezone, end],
    );
    return (await latestCycle(db, accountId))!;
  }
  // Anchored at now: a fixed cadence runs now + k·length; a calendar month still ends at the next 1st.
  const end = cycleContaining(now, cadence, timezone, now).end;
  if (last && last.end > now) {
    await db.query('UPDATE cycles SET ends_at = $3 WHERE account_id = $1 AND cycle_no = $2', [
      accountId,
      last.cycleNo,
      now,
    ]);
  }
  await db.query(
    `INSERT INTO cycles (account_id, cycle_no, starts_at, ends_at, cadence, timezone, reason, anchor_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $3)`,
    [accountId, (last?.cycleNo ?? 0) + 1, now, end, cadenceText, timezone, reason],
  );
  // A reset or cadence change is a cycle boundary like a rollover: unused allowance carries (migration 020).
  if (last) await db.query('SELECT credits_open_carries($1, $2)', [accountId, last.cycleNo + 1]);
  report(db, (o) => o.cycleOpened(reason));
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
