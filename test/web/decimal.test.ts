// The dashboard's exact decimal helper: BigInt millionths, so totals never pick up binary-float error.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal as DecimalJs } from 'decimal.js';
import {
  add,
  cmp,
  compact,
  format,
  fromUnits,
  isAmount,
  percent,
  sub,
  toUnits,
  typed,
} from '../../src/web/public/decimal.js';

// The reference must not round: decimal.js keeps 20 significant digits unless told otherwise.
const Decimal = DecimalJs.clone({ precision: 60 });

describe('dashboard decimal helper', () => {
  it('adds what floats cannot', () => {
    expect(add('0.1', '0.2')).toBe('0.3');
    expect(add('40000', '5000', '0.000001')).toBe('45000.000001');
    expect(add()).toBe('0');
    expect(sub('10', '10.5')).toBe('-0.5');
    expect(sub('999999999999999.999999', '0.000001')).toBe('999999999999999.999998');
  });

  it('reads and writes the canonical form', () => {
    expect(toUnits('1.5')).toBe(1_500_000n);
    expect(toUnits('-0.000001')).toBe(-1n);
    expect(fromUnits(1_500_000n)).toBe('1.5');
    expect(fromUnits(0n)).toBe('0');
    expect(fromUnits(-2_000_000n)).toBe('-2');
    for (const bad of ['', '1e3', '1.2345678', 'NaN', '1,000', ' . ', '--1']) {
      expect(() => toUnits(bad)).toThrow(/not a decimal/);
    }
  });

  it('accepts as an amount exactly what the API accepts', () => {
    expect(isAmount('5000')).toBe(true);
    expect(isAmount(' 12.5 ')).toBe(true);
    expect(isAmount('0.000001')).toBe(true);
    expect(isAmount('-1')).toBe(false);
    expect(isAmount('1.1234567')).toBe(false);
    expect(isAmount('1234567890123456')).toBe(false);
    expect(isAmount('')).toBe(false);
  });

  it('compares, rounds percentages half up and groups thousands', () => {
    expect(cmp('2', '10')).toBe(-1);
    expect(cmp('10.0', '10')).toBe(0);
    expect(percent('1', '3')).toBe('33.3');
    expect(percent('2', '3')).toBe('66.7');
    expect(percent('1', '8', 2)).toBe('12.5');
    expect(percent('5', '0')).toBe('0');
    expect(percent('-1', '3')).toBe('-33.3');
    expect(format('1234567.50')).toBe('1,234,567.5');
    expect(format('-1000')).toBe('-1,000');
    expect(format('999')).toBe('999');
    expect(format('n/a')).toBe('n/a');
  });

  it('agrees with decimal.js on sums and differences', () => {
    const amount = fc.bigInt({ min: -(10n ** 21n), max: 10n ** 21n }).map((u) => fromUnits(u));
    fc.assert(
      fc.property(fc.array(amount, { maxLength: 20 }), amount, (values, b) => {
        const exact = values.reduce((s, v) => s.plus(v), new Decimal(0));
        expect(new Decimal(add(...values)).equals(exact)).toBe(true);
        expect(add(...values)).toBe(exact.toFixed());
        expect(sub(values[0] ?? '0', b)).toBe(new Decimal(values[0] ?? '0').minus(b).toFixed());
      }),
    );
  });

  it('abbreviates from a billion on, never rounding up, and reads typed thousands separators', () => {
    expect(compact('999999999.5')).toBe('999,999,999.5');
    expect(compact('1000000000')).toBe('1B');
    expect(compact('1299999999.999999')).toBe('1.2B');
    expect(compact('-992499000000')).toBe('-992.4B');
    expect(compact('1500000000000')).toBe('1.5T');
    expect(compact('999999999999999.999999')).toBe('999.9T');
    expect(typed(' 45,000.5 ')).toBe('45000.5');
    expect(typed('1,234,567')).toBe('1234567');
    expect(typed('12,5')).toBe('12,5'); // a decimal comma is not a separator: left for isAmount to refuse
    expect(typed('1e3')).toBe('1e3');
  });
});
