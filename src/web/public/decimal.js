// Exact decimal arithmetic for the dashboard: amounts from the API are decimal strings with at most 6
// places; they are added and compared as BigInt millionths, never as binary floating point.
const PLACES = 6;
const SCALE = 10n ** BigInt(PLACES);
const SHAPE = /^(-)?(\d+)(?:\.(\d{1,6}))?$/;
/** What the API accepts as an amount: up to 15 integer digits and 6 decimal places, not negative. */
const AMOUNT = /^\d{1,15}(\.\d{1,6})?$/;

/** True when `text` is an amount the API accepts (after trimming). */
export function isAmount(text) {
  return typeof text === 'string' && AMOUNT.test(text.trim());
}

/** A decimal string as a BigInt count of millionths. Throws on anything else (a float, "1e3", ""). */
export function toUnits(text) {
  const m = typeof text === 'string' ? SHAPE.exec(text.trim()) : null;
  if (!m) throw new Error(`not a decimal amount: ${String(text)}`);
  const units = BigInt(m[2]) * SCALE + BigInt((m[3] ?? '').padEnd(PLACES, '0'));
  return m[1] ? -units : units;
}

/** Millionths back to the API's canonical form: no exponent, no trailing zeros ("1.5", "-2", "0"). */
export function fromUnits(units) {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const whole = (abs / SCALE).toString();
  const fraction = (abs % SCALE).toString().padStart(PLACES, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** a + b + … of decimal strings. */
export function add(...values) {
  return fromUnits(values.reduce((sum, v) => sum + toUnits(v), 0n));
}

/** a − b. */
export function sub(a, b) {
  return fromUnits(toUnits(a) - toUnits(b));
}

/** −1, 0 or 1. */
export function cmp(a, b) {
  const d = toUnits(a) - toUnits(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** part / whole × 100, rounded half up to `places` decimals ("0" when whole is 0). */
export function percent(part, whole, places = 1) {
  const w = toUnits(whole);
  if (w === 0n) return '0';
  const p = toUnits(part);
  const factor = 10n ** BigInt(places);
  const scaled = p * 100n * factor;
  const negative = scaled < 0n !== w < 0n;
  const num = scaled < 0n ? -scaled : scaled;
  const den = w < 0n ? -w : w;
  const rounded = (num * 2n + den) / (den * 2n);
  const whole10 = (rounded / factor).toString();
  const fraction = (rounded % factor).toString().padStart(places, '0').replace(/0+$/, '');
  const text = `${whole10}${fraction ? `.${fraction}` : ''}`;
  return negative && rounded !== 0n ? `-${text}` : text;
}

/** A decimal string for people: thousands separated by commas, the fraction kept exactly ("45,000.5"). */
export function format(text) {
  const m = SHAPE.exec(String(text).trim());
  if (!m) return String(text);
  const grouped = m[2].replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  return `${m[1] ?? ''}${grouped}${fraction ? `.${fraction}` : ''}`;
}

const COMPACT = [
  [10n ** 12n, 'T'],
  [10n ** 9n, 'B'],
];

/**
 * A decimal string short enough for a table cell: below a billion as format() writes it, above as
 * "1.2B" / "3.4T" (truncated to one decimal, so it never claims more than there is). The exact value goes
 * in the cell's tooltip.
 */
export function compact(text) {
  const units = toUnits(text);
  const abs = units < 0n ? -units : units;
  for (const [size, suffix] of COMPACT) {
    if (abs < size * SCALE) continue;
    const tenths = (abs * 10n) / (size * SCALE);
    const whole = (tenths / 10n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    const digit = tenths % 10n;
    return `${units < 0n ? '-' : ''}${whole}${digit ? `.${digit}` : ''}${suffix}`;
  }
  return format(text);
}

/** What someone typed, as an amount: "45,000.5" (commas grouping thousands) is "45000.5"; else as is. */
export function typed(text) {
  const t = String(text).trim();
  return /^\d{1,3}(,\d{3})+(\.\d+)?$/.test(t) ? t.replaceAll(',', '') : t;
}
