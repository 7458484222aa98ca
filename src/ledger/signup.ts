// Signup: a new user joins Default (unless credits.yaml placed them) and gets the signup credits once.
import { ledgerTransaction } from './retry.js';
import type { IdempotencySpec } from './idempotency.js';
import { dec } from '../decimal.js';
import { DEFAULT_GROUP } from '../declared-state.js';
import { ensureScope } from './budget-counters.js';
import type { Store } from '../state/store.js';

export interface SignupResult {
  email: string;
  group: string;
  created: boolean;
  signupCredits: string;
}

export async function signup(
  store: Store,
  input: { accountId: string; email: string; name?: string; idempotency?: IdempotencySpec },
): Promise<SignupResult> {
  const email = input.email.toLowerCase();
  return ledgerTransaction(store, input, async (tx) => {
    const inserted = await tx.query(
      `INSERT INTO members (account_id, email, name, group_key, signed_up_at) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (account_id, email) DO UPDATE SET signed_up_at = coalesce(members.signed_up_at, now()),
                                                     name = coalesce(members.name, EXCLUDED.name)
       RETURNING (xmax = 0) AS created, group_key`,
      [input.accountId, email, input.name ?? null, DEFAULT_GROUP],
    );
    const row = inserted.rows[0] as { created: boolean; group_key: string };
    const { rows } = await tx.query<{ signup_credits: string }>(
      'SELECT signup_credits FROM accounts WHERE account_id = $1',
      [input.accountId],
    );
    const credits = rows[0]?.signup_credits ?? '0';
    let granted = '0';
    if (!dec(credits).isZero()) {
      // Exactly once per member, however often signup is retried: the idempotency key is unique per account.
      const grant = await tx.query(
        `INSERT INTO ledger_entries (account_id, cycle_no, member_email, group_key, kind, credits, idempotency_key)
         VALUES ($1, 0, $2, $3, 'signup-grant', $4, $5) ON CONFLICT DO NOTHING RETURNING entry_id`,
        [input.accountId, email, row.group_key, credits, `signup:${email}`],
      );
      if (grant.rowCount === 1) {
        await ensureScope(tx, input.accountId, 0, `signup:${email}`, credits);
        granted = dec(credits).toFixed();
      }
    }
    return { email, group: row.group_key, created: row.created, signupCredits: granted };
  });
}
