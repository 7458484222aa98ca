// What an Idempotency-Key may be, and whose it is. One limit for the header and for each event's
// idempotencyKey in POST /v1/usage/batch (docs/api.md): longer or empty keys are refused, never cut.
//
// Whose: a member's keys are that member's, and admin and service tokens each have their role's namespace, so
// one role's key never blocks or replays another's; a retry with a rotated token of the same role still
// replays. The keys of batch events (POST /v1/usage/batch) are scoped the same way.
import { CreditsError } from '../errors.js';
import type { TokenIdentity } from '../state/tokens.js';

/** Longest key accepted, in characters. */
export const MAX_IDEMPOTENCY_KEY = 200;

/** Refuses a key of the wrong length with IDEMPOTENCY_KEY_INVALID; `field` names where a batch event has it. */
export function checkKeyLength(key: string, field?: string): void {
  if (key.length > 0 && key.length <= MAX_IDEMPOTENCY_KEY) return;
  throw new CreditsError(
    'IDEMPOTENCY_KEY_INVALID',
    { limit: MAX_IDEMPOTENCY_KEY, length: key.length },
    field === undefined ? { limit: MAX_IDEMPOTENCY_KEY } : { limit: MAX_IDEMPOTENCY_KEY, field },
  );
}

export const scopedKey = (identity: TokenIdentity, clientKey: string): string =>
  identity.role === 'member' ? `member:${identity.member}:${clientKey}` : `${identity.role}:${clientKey}`;
