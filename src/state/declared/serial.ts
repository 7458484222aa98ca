// The state serial: every write of declared state moves it on by one, so a plan made before it is stale
// (PLAN_STALE). An admin edit only moves it; an apply also records what is now applied.
import type { Queryable } from '../store.js';
import { ACCOUNT_FIELDS, appliedObjectSql } from './fields.js';

const APPLIED_ACCOUNT = appliedObjectSql(ACCOUNT_FIELDS, ["'id', account_id"]);

/** After an admin edit: the serial moves on, so plans made before it go stale. */
export async function bumpStateSerial(tx: Queryable, accountId: string): Promise<number> {
  const { rows } = await tx.query<{ state_serial: string }>(
    'UPDATE accounts SET state_serial = state_serial + 1 WHERE account_id = $1 RETURNING state_serial',
    [accountId],
  );
  return Number(rows[0]!.state_serial);
}

/**
 * Records the plan as applied: the state serial moves on, the applied columns follow the declared ones, and the
 * file's digest and text are kept when given (null, undefined: the next plan of that file compares everything,
 * planner/plan-against-store.ts). Returns the new serial.
 */
export async function markApplied(
  tx: Queryable,
  accountId: string,
  digest: string | null,
  fileText: string | undefined,
): Promise<number> {
  const bumped = await tx.query<{ state_serial: string }>(
    `UPDATE accounts
        SET state_serial = state_serial + 1, applied_config_digest = $2,
            applied_declared_version = declared_version, updated_at = now(),
            applied = ${APPLIED_ACCOUNT}
      WHERE account_id = $1
      RETURNING state_serial`,
    [accountId, digest],
  );
  if (fileText !== undefined) {
    await tx.query(
      `INSERT INTO applied_files (account_id, config_digest, file_text) VALUES ($1, $2, $3)
       ON CONFLICT (account_id) DO UPDATE SET config_digest = EXCLUDED.config_digest, file_text = EXCLUDED.file_text`,
      [accountId, digest, fileText],
    );
  } else {
    await tx.query('DELETE FROM applied_files WHERE account_id = $1', [accountId]);
  }
  return Number(bumped.rows[0]!.state_serial);
}
