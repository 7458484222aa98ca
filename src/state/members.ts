// Member rows, as the CLI asks about them.
import type { Queryable } from './store.js';

/** Whether the account has a member (declared or signed up) with this e-mail. */
export async function memberExists(db: Queryable, accountId: string, email: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM members WHERE account_id = $1 AND email = $2', [
    accountId,
    email,
  ]);
  return rowCount > 0;
}
