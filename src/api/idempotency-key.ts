// What an idempotency key is: 1 to 200 characters (Unicode code points) of text, the same rule for the
// Idempotency-Key header and for the idempotencyKey of a batch event, so that a key is one key wherever it is
// sent. A header carries bytes and Node hands them over one character per byte (latin1); they are read as
// the UTF-8 that clients send, or a non-ASCII key in a header and the same key in a JSON body would be two
// keys (and charge twice). Text PostgreSQL cannot store (U+0000, an unpaired surrogate) is refused here.
import { CreditsError } from '../errors.js';
import type { TokenIdentity } from '../state/tokens.js';

/** Longest key accepted, in characters (docs/api.md); longer ones are refused, never cut. */
export const MAX_IDEMPOTENCY_KEY = 200;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// In a `u` regex a well-formed pair is one code point, so this matches only an unpaired surrogate.
const LONE_SURROGATE = /\p{Cs}/u;

const invalid = (problem: string, field: string | undefined, length?: number): CreditsError =>
  new CreditsError(
    'IDEMPOTENCY_KEY_INVALID',
    { limit: MAX_IDEMPOTENCY_KEY, problem },
    { limit: MAX_IDEMPOTENCY_KEY, ...(length === undefined ? {} : { length }), ...(field ? { field } : {}) },
  );

/** The key as text, or IDEMPOTENCY_KEY_INVALID (`field` names where it came from, for a batch event). */
export function checkKey(key: string, field?: string): string {
  const length = [...key].length;
  if (length === 0 || length > MAX_IDEMPOTENCY_KEY) {
    throw invalid(`it has ${length} characters`, field, length);
  }
  if (key.includes('\u0000')) throw invalid('it holds U+0000', field);
  if (LONE_SURROGATE.test(key)) throw invalid('it holds an unpaired surrogate', field);
  return key;
}

/** The Idempotency-Key header's bytes read as UTF-8 and checked as any key is. */
export function keyFromHeader(raw: string): string {
  let text: string;
  try {
    text = utf8.decode(Buffer.from(raw, 'latin1'));
  } catch {
    throw invalid('it is not UTF-8', undefined);
  }
  return checkKey(text);
}

// Whose a key is: a member's keys are that member's, and admin and service tokens each have their role's
// namespace, so one role's key never blocks or replays another's; a retry with a rotated token of the same
// role still replays. The keys of batch events (POST /v1/usage/batch) are scoped the same way. The e-mail's
// length goes first: an e-mail may hold a colon (`a@b:c`), and `member:a@b:c:d` would otherwise be both
// a@b's key `c:d` and a@b:c's key `d`.
export const scopedKey = (identity: TokenIdentity, clientKey: string): string =>
  identity.role === 'member'
    ? `member:${identity.member!.length}:${identity.member}:${clientKey}`
    : `${identity.role}:${clientKey}`;
