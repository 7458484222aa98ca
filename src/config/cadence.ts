// Cadences and time zones of credits.yaml: what is accepted, as pure functions.
export type Cadence = { kind: 'calendar-month' } | { kind: 'fixed'; ms: number; text: string };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// A Map, not an object literal: `constructor`, `toString` or `__proto__` must not look like cadences.
const NAMED = new Map<string, number>([
  ['15d', 15 * DAY],
  ['1w', 7 * DAY],
  ['1d', DAY],
]);

/** `calendar-month`, `15d`, `1w`, `1d`, or `<N>h` / `<N>m` of at most a day; null when not a cadence. */
export function parseCadence(text: string): Cadence | null {
  if (text === 'calendar-month') return { kind: 'calendar-month' };
  const named = NAMED.get(text);
  if (named !== undefined) return { kind: 'fixed', ms: named, text };
  // Four digits are enough for 1440m; no leading zeros, so each duration has one spelling per unit.
  const m = /^([1-9][0-9]{0,3})([hm])$/.exec(text);
  if (!m) return null;
  const ms = Number(m[1]) * (m[2] === 'h' ? HOUR : MINUTE);
  return ms <= DAY ? { kind: 'fixed', ms, text } : null;
}

// Only known-good names are cached, and boundedly: the API hands us untrusted strings.
const knownZones = new Set<string>();
const MAX_CACHED_ZONES = 1024;

/** Whether Intl knows the IANA zone (`UTC` included). */
export function isValidTimeZone(tz: string): boolean {
  if (knownZones.has(tz)) return true;
  // Offsets like `+01:00` are not IANA names, and newer Node versions accept them where Node 20 does not:
  // refuse them everywhere so a credits.yaml validates the same on every runtime.
  if (tz === '' || /^[+-]/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch (e) {
    if (e instanceof RangeError) return false;
    throw e;
  }
  if (knownZones.size >= MAX_CACHED_ZONES) knownZones.clear();
  knownZones.add(tz);
  return true;
}

/**
 * A valid zone in the spelling Intl gives it when the two differ only in case (`europe/berlin` →
 * `Europe/Berlin`), so a case-only edit is no zone change (which would start a fresh cycle). Aliases keep
 * their own name (`US/Pacific` stays): what Intl maps them to changes between ICU versions.
 */
export function canonicalTimeZone(tz: string): string {
  if (!isValidTimeZone(tz)) return tz; // e.g. a value written into the database by hand: shown as it is
  const resolved = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  return resolved.toLowerCase() === tz.toLowerCase() ? resolved : tz;
}
