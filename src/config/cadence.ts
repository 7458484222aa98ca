// Cadences and time zones of credits.yaml: what is accepted, as pure functions.
export type Cadence = { kind: 'calendar-month' } | { kind: 'fixed'; ms: number; text: string };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NAMED: Record<string, number> = { '15d': 15 * DAY, '1w': 7 * DAY, '1d': DAY };

/** `calendar-month`, `15d`, `1w`, `1d`, or `<N>h` / `<N>m` of at most a day; null when not a cadence. */
export function parseCadence(text: string): Cadence | null {
  if (text === 'calendar-month') return { kind: 'calendar-month' };
  const named = NAMED[text];
  if (named) return { kind: 'fixed', ms: named, text };
  const m = /^([1-9][0-9]{0,4})([hm])$/.exec(text);
  if (!m) return null;
  const ms = Number(m[1]) * (m[2] === 'h' ? HOUR : MINUTE);
  return ms <= DAY ? { kind: 'fixed', ms, text } : null;
}

const zones = new Map<string, boolean>();

/** Whether Intl knows the IANA zone (cached: constructing formatters is slow). */
export function isValidTimeZone(tz: string): boolean {
  if (tz === '') return false;
  let ok = zones.get(tz);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      ok = true;
    } catch {
      ok = false;
    }
    zones.set(tz, ok);
  }
  return ok;
}
