// Whose an Idempotency-Key is: a member's keys are that member's, and admin and service tokens each have
// their role's namespace, so one role's key never blocks or replays another's; a retry with a rotated token
// of the same role still replays. The keys of batch events (POST /v1/usage/batch) are scoped the same way.
import type { TokenIdentity } from '../state/tokens.js';

export const scopedKey = (identity: TokenIdentity, clientKey: string): string =>
  identity.role === 'member' ? `member:${identity.member}:${clientKey}` : `${identity.role}:${clientKey}`;
