// A value the database refuses (SQLSTATE class 22) came from the client: a 400, never a 500. Text PostgreSQL
// cannot hold (U+0000 in text or JSON, an unpaired surrogate) is named as such; "out of range" would send the
// client looking at its numbers.
import { CreditsError } from '../errors.js';

const TEXT_CODES = new Set(['22021', '22P05']);

/** The client's error for a database value error, or undefined when `err` is something else. */
export function valueError(err: unknown): CreditsError | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('22')) return undefined;
  return new CreditsError('VALIDATION_FAILED', {
    reason: TEXT_CODES.has(code)
      ? 'text holds U+0000 or a character the database cannot store'
      : 'value out of range',
  });
}
