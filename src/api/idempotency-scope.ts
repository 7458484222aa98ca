// Whose an Idempotency-Key is: a member's keys are that member's, and admin and service tokens each have
// their role's namespace, so one role's key never blocks or replays another's; a retry with a rotated token
// of the same role still replays. The keys of batch events (POST /v1/usage/batch) are scoped the same way.
import type { TokenIdentity } from '../state/tokens.js';

// The e-mail's length goes first: an e-mail may hold a colon (`a@b:c`), and `member:a@b:c:d` would otherwise be
// both a@b's key `c:d` and a@b:c's key `d`.
export const scopedKey = (identity: TokenIdentity, clientKey: string): string =>
  identity.role === 'member'
    ? `member:${identity.member!.length}:${identity.member}:${clientKey}`
    : `${identity.role}:${clientKey}`;
