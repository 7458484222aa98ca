// A whole-number setting given as text (an environment variable or a command-line flag): digits only, from 1,
// no sign, exponent, spaces or leading zeros, at most `max`; anything else is VALIDATION_FAILED naming it.
import { CreditsError } from './errors.js';

export function wholeNumberSetting(name: string, text: string, max?: number, unit?: string): number {
  const n = /^[1-9][0-9]{0,8}$/.test(text) ? Number(text) : NaN;
  if (!(n <= (max ?? Infinity))) {
    const of = unit ? ` of ${unit}` : '';
    const to = max === undefined ? '' : ` to ${max}`;
    throw new CreditsError('VALIDATION_FAILED', {
      reason: `${name} must be a whole number${of} from 1${to}, not ${JSON.stringify(text)}`,
    });
  }
  return n;
}
