// Exact decimal arithmetic for money and credits: strings in, strings out, never binary floats.
import { Decimal as DecimalJs } from 'decimal.js';

// 40 significant digits covers numeric(24,6) sums over millions of rows without rounding.
const Decimal = DecimalJs.clone({
  precision: 40,
  rounding: DecimalJs.ROUND_HALF_EVEN,
  toExpNeg: -40,
  toExpPos: 40,
});
export type Decimal = InstanceType<typeof Decimal>;

export const MAX_DECIMAL_PLACES = 6;

export const dec = (value: string | number | Decimal): Decimal => new Decimal(value);

/** Canonical text of an exact decimal: no exponent, no trailing zeros, no `-0` (`"5000.50"` → `"5000.5"`). */
const PLAIN = /^([-+]?)(\d+)(?:\.(\d+))?$/;

export function canonical(value: string | Decimal): string {
  if (typeof value === 'string') {
    // Fast path for the common plain form (no exponent): string work instead of a Decimal per amount.
    const m = PLAIN.exec(value);
    if (m) {
      const int = m[2]!.replace(/^0+(?=\d)/, '');
      const frac = (m[3] ?? '').replace(/0+$/, '');
      const text = frac ? `${int}.${frac}` : int;
      return text === '0' ? '0' : (m[1] === '-' ? '-' : '') + text;
    }
  }
  const d = typeof value === 'string' ? new Decimal(value) : value;
  if (d.isZero()) return '0';
  return d.toFixed();
}

export const add = (a: string, b: string): string => canonical(new Decimal(a).plus(b));
export const sub = (a: string, b: string): string => canonical(new Decimal(a).minus(b));
export const mul = (a: string, b: string): string => canonical(new Decimal(a).times(b));
export const cmp = (a: string, b: string): number => new Decimal(a).comparedTo(b);
export const isZero = (a: string): boolean => new Decimal(a).isZero();

/** Sum of decimal strings, exact. */
export function sum(values: Iterable<string>): string {
  let total = new Decimal(0);
  for (const v of values) total = total.plus(v);
  return canonical(total);
}

export function decimalPlaces(value: string): number {
  const m = PLAIN.exec(value);
  if (m) return (m[3] ?? '').replace(/0+$/, '').length;
  return new Decimal(value).decimalPlaces();
}

/** Exact integer millionths of a canonical amount with at most 6 places (fast exact sums of many amounts). */
export function toMicros(value: string): bigint {
  const m = PLAIN.exec(value);
  if (!m) return BigInt(new Decimal(value).times(1_000_000).toFixed(0));
  const micros = BigInt(m[2]!) * 1_000_000n + BigInt(((m[3] ?? '') + '000000').slice(0, 6));
  return m[1] === '-' ? -micros : micros;
}

export function fromMicros(micros: bigint): string {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  return canonical(
    `${negative ? '-' : ''}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, '0')}`,
  );
}

/** Whether a string is a plain decimal literal (optional sign, digits, optional fraction, optional exponent). */
export const isDecimalLiteral = (text: string): boolean =>
  /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text);
