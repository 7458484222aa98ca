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
export function canonical(value: string | Decimal): string {
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

export const decimalPlaces = (value: string): number => new Decimal(value).decimalPlaces();

/** Whether a string is a plain decimal literal (optional sign, digits, optional fraction, optional exponent). */
export const isDecimalLiteral = (text: string): boolean =>
  /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text);
