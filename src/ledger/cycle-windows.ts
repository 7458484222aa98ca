// Cycle windows: billing-cycle arithmetic, pure (no clock, no I/O): contiguous half-open cycles [start, end) per cadence.
import type { Cadence } from '../config/cadence.js';

export interface CycleWindow {
  start: Date;
  end: Date;
  /** Whole cycles between the anchor's cycle and this one (0 = the anchor's), computed in O(1). */
  index: number;
}

export interface LocalParts {
  year: number;
  month: number; // 0-11
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const SECOND = 1000;
const HOUR = 3_600_000;
// Larger than any UTC offset the zone database has ever used (LMT included, under 16 h), so the local
// date is before the wanted day at `wall - WINDOW` and on or after it at `wall + WINDOW`.
const WINDOW = 16 * HOUR;
// No zone has two offset changes this close together, so a probe per step cannot miss a transition.
const PROBE = 4 * HOUR;

// Formatters are slow to build and zones are few; the bound only guards against a flood of names.
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 256;

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock reading in `timeZone` at instant `t` (ms since the epoch), to the second. */
export function localParts(t: number, timeZone: string): LocalParts {
  const out: Record<string, number> = {};
  let bc = false;
  for (const p of formatter(timeZone).formatToParts(new Date(t))) {
    if (p.type === 'era') bc = p.value.startsWith('B');
    else if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  return {
    year: bc ? 1 - out.year! : out.year!,
    month: out.month! - 1,
    day: out.day!,
    // Some ICU versions print midnight as 24 even with h23.
    hour: out.hour! % 24,
    minute: out.minute!,
    second: out.second!,
  };
}

/** A wall-clock reading as if it were UTC; unlike Date.UTC, years 0-99 are not taken as 1900-1999. */
function wallClockMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

/** Local wall time minus UTC at instant t, in ms (whole seconds, as the zone database has). */
function offsetAt(t: number, timeZone: string): number {
  const p = localParts(t, timeZone);
  return wallClockMs(p.year, p.month, p.day, p.hour, p.minute, p.second) - Math.floor(t / SECOND) * SECOND;
}

/** The first whole second after `from` whose offset differs from `offset`, or Infinity before `until`. */
function offsetChangeAfter(from: number, offset: number, until: number, timeZone: string): number {
  for (let lo = from; lo < until;) {
    let hi = Math.min(lo + PROBE, until);
    if (offsetAt(hi, timeZone) !== offset) {
      while (hi - lo > SECOND) {
        const mid = lo + Math.floor((hi - lo) / (2 * SECOND)) * SECOND;
        if (offsetAt(mid, timeZone) === offset) lo = mid;
        else hi = mid;
      }
      return hi;
    }
    lo = hi;
  }
  return Infinity;
}

/**
 * The first instant whose local date is year-month-day or later (month 0-11): local midnight, or the
 * instant the clock jumps past it when midnight is skipped (America/Sao_Paulo 2018-11-04, Asia/Kathmandu
 * 1986-01-01), or the first day after it when the whole day is skipped (Pacific/Apia 2011-12-30).
 */
export function startOfLocalDay(year: number, month: number, day: number, timeZone: string): number {
  const wall = wallClockMs(year, month, day);
  const until = wall + WINDOW;
  // Walk spans of constant offset: within one, local time is t + offset and only moves forward. Local
  // dates can run backwards across spans (St. John's fell back from 00:01 to 23:01 until 2010), so the
  // earliest span reaching midnight wins, not the last crossing a bisection of the local date would find.
  let s = Math.floor((wall - WINDOW) / SECOND) * SECOND;
  let offset = offsetAt(s, timeZone);
  for (;;) {
    const end = offsetChangeAfter(s, offset, until, timeZone);
    const midnight = wall - offset;
    if (midnight < end) return Math.max(midnight, s);
    s = end;
    offset = offsetAt(s, timeZone);
  }
}

// Month starts are asked for again and again (every call needs two); they never change for a zone.
const monthStarts = new Map<string, number>();
const MAX_MONTH_STARTS = 4096;

/** Start of month number n (year·12 + month) in the zone. */
function monthStart(n: number, timeZone: string): number {
  const key = `${timeZone}\u0000${n}`;
  let t = monthStarts.get(key);
  if (t === undefined) {
    t = startOfLocalDay(Math.floor(n / 12), ((n % 12) + 12) % 12, 1, timeZone);
    if (monthStarts.size >= MAX_MONTH_STARTS) monthStarts.clear();
    monthStarts.set(key, t);
  }
  return t;
}

/** The month number whose cycle holds instant t. */
function monthOf(t: number, timeZone: string): number {
  const p = localParts(t, timeZone);
  let n = p.year * 12 + p.month;
  // The local month is only a first guess: right after a skipped or repeated midnight on the 1st the clock
  // can read a month other than the cycle's.
  while (monthStart(n, timeZone) > t) n--;
  while (monthStart(n + 1, timeZone) <= t) n++;
  return n;
}

function instant(d: Date, name: string): number {
  const t = d.getTime();
  if (!Number.isFinite(t)) throw new RangeError(`${name} is not a valid date`);
  return t;
}

function fixedLength(cadence: Extract<Cadence, { kind: 'fixed' }>): number {
  if (!Number.isSafeInteger(cadence.ms) || cadence.ms <= 0) {
    throw new RangeError(`cadence ${cadence.text} has no positive length`);
  }
  return cadence.ms;
}

/** Index of the cycle holding t, with fixed cycles starting at anchor + k·ms. */
function fixedIndex(anchor: number, ms: number, t: number): number {
  let k = Math.floor((t - anchor) / ms);
  // Guards against rounding of the division at the far ends of the Date range.
  if (anchor + k * ms > t) k--;
  else if (anchor + (k + 1) * ms <= t) k++;
  return k;
}

/** The cycle numbered `index` counted from the anchor's cycle (0); negative indexes are earlier cycles. */
export function cycleAtIndex(anchor: Date, cadence: Cadence, timeZone: string, index: number): CycleWindow {
  if (!Number.isSafeInteger(index)) throw new RangeError(`cycle index ${index} is not an integer`);
  const a = instant(anchor, 'anchor');
  if (cadence.kind === 'fixed') {
    const ms = fixedLength(cadence);
    const start = a + index * ms;
    return { start: new Date(start), end: new Date(start + ms), index };
  }
  const n = monthOf(a, timeZone) + index;
  return { start: new Date(monthStart(n, timeZone)), end: new Date(monthStart(n + 1, timeZone)), index };
}

/**
 * The cycle holding `at`. Calendar months start at local midnight on the 1st in `timeZone`, whatever the
 * anchor; fixed cadences start at anchor + k·length of elapsed time. Idle gaps cost nothing: the index is
 * computed, never counted.
 */
export function cycleContaining(anchor: Date, cadence: Cadence, timeZone: string, at: Date): CycleWindow {
  const a = instant(anchor, 'anchor');
  const t = instant(at, 'at');
  if (cadence.kind === 'fixed') {
    const ms = fixedLength(cadence);
    const index = fixedIndex(a, ms, t);
    const start = a + index * ms;
    return { start: new Date(start), end: new Date(start + ms), index };
  }
  const n = monthOf(t, timeZone);
  return {
    start: new Date(monthStart(n, timeZone)),
    end: new Date(monthStart(n + 1, timeZone)),
    index: n - monthOf(a, timeZone),
  };
}

/** When the cycle holding `at` began. */
export function startOfCycleAt(anchor: Date, cadence: Cadence, timeZone: string, at: Date): Date {
  return cycleContaining(anchor, cadence, timeZone, at).start;
}

/** The next `count` cycle ends after `from`: a preview of upcoming boundaries (none for count <= 0). */
export function nextBoundaries(
  anchor: Date,
  cadence: Cadence,
  timeZone: string,
  from: Date,
  count: number,
): Date[] {
  const first = cycleContaining(anchor, cadence, timeZone, from);
  const out: Date[] = [];
  if (!(count > 0)) return out;
  out.push(first.end);
  for (let i = 1; i < count; i++) out.push(cycleAtIndex(anchor, cadence, timeZone, first.index + i).end);
  return out;
}
