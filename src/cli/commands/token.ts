// `credits token create|list|revoke`: API tokens. A new token is printed once, alone on stdout.
import { CreditsError } from '../../errors.js';
import { createToken, listTokens, revokeToken, ROLES, type Role } from '../../state/tokens.js';
import { memberExists } from '../../state/members.js';
import { withStore } from '../with-store.js';
import type { Streams } from '../output.js';

export async function tokenCreateCommand(
  opts: { account: string; role: string; member?: string; databaseUrl?: string },
  streams: Streams,
): Promise<number> {
  if (!ROLES.includes(opts.role as Role)) {
    throw new CreditsError('VALIDATION_FAILED', { reason: `--role must be one of ${ROLES.join(', ')}` });
  }
  return withStore(opts, async (store) => {
    const created = await createToken(store, {
      accountId: opts.account,
      role: opts.role as Role,
      member: opts.member,
    });
    streams.stdout.write(created.token + '\n');
    streams.stderr.write(
      `created ${opts.role} token ${created.prefix}… for ${opts.account}; it is shown only once\n`,
    );
    if (opts.member) {
      // Allowed (a token may be handed out before signup), but a typo should not pass unnoticed.
      if (!(await memberExists(store, opts.account, opts.member.toLowerCase()))) {
        streams.stderr.write(
          `note: ${opts.member} is not a member of ${opts.account} yet; the token works once they sign up or are declared\n`,
        );
      }
    }
    return 0;
  });
}

export async function tokenListCommand(
  opts: { account: string; databaseUrl?: string },
  streams: Streams,
): Promise<number> {
  return withStore(opts, async (store) => {
    for (const t of await listTokens(store, opts.account)) {
      streams.stdout.write(
        `${t.prefix}…  ${t.role.padEnd(7)}  ${t.member_email ?? '-'}  ${t.created_at.toISOString()}${t.revoked_at ? '  revoked' : ''}  ${t.token_id}\n`,
      );
    }
    return 0;
  });
}

export async function tokenRevokeCommand(
  opts: { account: string; token: string; databaseUrl?: string },
  streams: Streams,
): Promise<number> {
  return withStore(opts, async (store) => {
    const n = await revokeToken(store, opts.account, opts.token);
    if (n === 0) throw new CreditsError('NOT_FOUND', { what: `token ${opts.token}` });
    streams.stdout.write(`revoked ${n} token${n === 1 ? '' : 's'}\n`);
    return 0;
  });
}
