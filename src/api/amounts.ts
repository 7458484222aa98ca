// Amounts in request bodies: exact decimals, checked against the text the client sent. A JSON number is
// judged by its source text (src/api/json-body.ts keeps it), never by the binary float JSON.parse made of
// it: `1e-7`, `1.0000000000000001` or a 21-digit number would otherwise pass as something else.
import { CreditsError } from '../errors.js';
import { canonical, cmp, MAX_DECIMAL_PLACES } from '../decimal.js';

/** The largest amount anywhere (the same bound credits.yaml has); sums stay far inside numeric(24,6). */
export const MAX_AMOUNT = '1000000000000000';

// JSON's own number grammar without sign and exponent, at most 6 places; strings follow the same grammar.
const AMOUNT_TEXT = new RegExp(`^(0|[1-9]\\d{0,15})(\\.\\d{1,${MAX_DECIMAL_PLACES}})?$`);

const invalid = (field: string): CreditsError =>
  new CreditsError('INVALID_AMOUNT', { field, places: MAX_DECIMAL_PLACES, max: MAX_AMOUNT }, { field });

/**
 * The canonical decimal string of an amount field, or INVALID_AMOUNT naming it. `numberText` is the source
 * text of a JSON number; a number without one (not from the JSON parser) is refused rather than guessed at.
 */
export function parseAmount(field: string, value: unknown, numberText: string | undefined): string {
  const text = typeof value === 'string' ? value : typeof value === 'number' ? numberText : undefined;
  if (text === undefined || !AMOUNT_TEXT.test(text) || cmp(text, MAX_AMOUNT) > 0) throw invalid(field);
  return canonical(text);
}
