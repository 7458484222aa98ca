// API tokens: 256 random bits shown once; the store keeps only the SHA-256 and a short prefix for listing.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { CreditsError } from '../errors.js';
import type { Queryable, Store } from './store.js';

export type Role = 'admin' | 'member' | 'service';
export const ROLES: readonly Role[] = ['admin', 'member', 'service'];

export interface TokenIdentity {
  tokenId: string;
  accountId: string;
  role: Role;
  member: string | null;
}

const digest = (token: string): Buffer => createHash('sha256').update(token).digest();

export async function createToken(
  db: Queryable,
  input: { accountId: string; role: Role; member?: string },
): Promise<{ token: string; tokenId: string; prefix: string }> {
  const account = await db.query('SELECT 1 FROM accounts WHERE account_id = $1', [input.accountId]);
  if (account.rowCount === 0) throw new CreditsError('ACCOUNT_NOT_FOUND', { account: input.accountId });
  if (input.role === 'member' && !input.member) {
    throw new CreditsError('VALIDATION_FAILED', { reason: 'a member token needs --member <email>' });
  }
  if (input.role !== 'member' && input.member) {
    throw new CreditsError('VALIDATION_FAILED', {
      reason: `--member is only for member tokens, not ${input.role}`,
    });
  }
  const token = `cr_${randomBytes(32).toString('base64url')}`;
  const tokenId = randomUUID();
  const prefix = token.slice(0, 10);
  await db.query(
    `INSERT INTO api_tokens (account_id, token_id, prefix, sha256, role, member_email) VALUES ($1, $2, $3, $4, $5, $6)`,
    [input.accountId, tokenId, prefix, digest(token), input.role, input.member?.toLowerCase() ?? null],
  );
  return { token, tokenId, prefix };
}

/** The identity of a bearer token, or undefined. Looked up by digest, then compared in constant time. */
export async function authenticate(db: Queryable, token: string): Promise<TokenIdentity | undefined> {
  const wanted = digest(token);
  const { rows } = await db.query<{
    token_id: string;
    account_id: string;
    role: Role;
    member_email: string | null;
    sha256: Buffer | Uint8Array;
  }>(
    'SELECT token_id, account_id, role, member_email, sha256 FROM api_tokens WHERE sha256 = $1 AND revoked_at IS NULL',
    [wanted],
  );
  const row = rows[0];
  if (!row || !timingSafeEqual(Buffer.from(row.sha256), wanted)) return undefined;
  return { tokenId: row.token_id, accountId: row.account_id, role: row.role, member: row.member_email };
}

export async function listTokens(db: Queryable, accountId: string) {
  const { rows } = await db.query<{
    token_id: string;
    prefix: string;
    role: Role;
    member_email: string | null;
    created_at: Date;
    revoked_at: Date | null;
  }>(
    'SELECT token_id, prefix, role, member_email, created_at, revoked_at FROM api_tokens WHERE account_id = $1 ORDER BY created_at',
    [accountId],
  );
  return rows;
}

/** How short a prefix may be and still name one token: the list shows ten characters (`cr_` and seven). */
export const MIN_REVOKE_PREFIX = 6;

/**
 * Revokes the account's live token named by its id, the whole token, or a prefix of at least
 * MIN_REVOKE_PREFIX characters of what `token list` shows. A prefix that names several tokens revokes none
 * and says so (TOKEN_AMBIGUOUS): a revocation must never take more than the caller meant.
 */
export async function revokeToken(store: Store, accountId: string, given: string): Promise<number> {
  const shown = given.endsWith('…') ? given.slice(0, -1) : given;
  const byPrefix = shown.length >= MIN_REVOKE_PREFIX ? shown.slice(0, 10) : null;
  return store.transaction((tx) => revokeIn(tx, accountId, shown, byPrefix));
}

async function revokeIn(db: Queryable, accountId: string, shown: string, byPrefix: string | null) {
  const { rows } = await db.query<{ token_id: string }>(
    `SELECT token_id FROM api_tokens
      WHERE account_id = $1 AND revoked_at IS NULL
        AND (token_id::text = $2 OR sha256 = $3 OR ($4::text IS NOT NULL AND starts_with(prefix, $4)))
      FOR UPDATE`,
    [accountId, shown, digest(shown), byPrefix],
  );
  if (rows.length > 1) throw new CreditsError('TOKEN_AMBIGUOUS', { given: shown, count: rows.length });
  if (rows.length === 0) return 0;
  const { rowCount } = await db.query(
    'UPDATE api_tokens SET revoked_at = now() WHERE account_id = $1 AND token_id = $2',
    [accountId, rows[0]!.token_id],
  );
  return rowCount;
}
