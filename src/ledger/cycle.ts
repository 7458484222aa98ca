// Billing-cycle arithmetic, pure: cycles are contiguous half-open intervals [start, end). Calendar months
// start at local midnight on the 1st in the account's time zone; fixed cadences run anchor + k·length.
import type { Cadence } from '../config/cadence.js';

export interface CycleWindow {
  start: Date;
  end: Date;
  /** Whole cycles between the anchor's cycle and this one (0 = the anchor's), computed in O(1). */
  index: number;
}

interface LocalParts {
  year: number;
  month: number; // 0-11
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

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
    formatters.set(timeZone, f);
  }
  return f;
}

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
    hour: out.hour! % 24,
    minute: out.minute!,
    second: out.second!,
  };
}

/** Local wall time minus UTC at instant t, in ms (second precision, as the zone database has). */
function offsetAt(t: number, timeZone: string): number {
  const p = localParts(t, timeZone);
  const asUtc = Date.UTC(p.year, p.month, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(t / 1000) * 1000;
}

const dayKey = (p: Pick<LocalParts, 'year' | 'month' | 'day'>): number =>
  p.year * 10_000 + p.month * 100 + p.day;

/** The first instant whose local date is year-month-day (local midnight, or later when midnight is skipped). */
export function startOfLocalDay(year: number, month: number, day: number, timeZone: string): number {
  const wall = Date.UTC(year, month, day);
  const normal = new Date(wall);
  const target = dayKey({
    year: normal.getUTCFullYear(),
    month: normal.getUTCMonth(),
    day: normal.getUTCDate(),
  });
  let t = wall - offsetAt(wall, timeZone);
  t = wall - offsetAt(t, timeZone);
  const isFirst = (x: number) =>
    dayKey(localParts(x, timeZone)) >= target && dayKey(localParts(x - 1000, timeZone)) < target;
  if (isFirst(t)) return t;
  // Midnight falls into a DST gap (or the guess landed off by one transition): search for the first instant.
  let lo = wall - 36 * 3_600_000;
  let hi = wall + 36 * 3_600_000;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (dayKey(localParts(mid, timeZone)) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

const monthNumber = (p: Pick<LocalParts, 'year' | 'month'>): number => p.year * 12 + p.month;
const monthStart = (n: number, timeZone: string): number =>
  startOfLocalDay(Math.floor(n / 12), ((n % 12) + 12) % 12, 1, timeZone);

export function cycleContaining(anchor: Date, cadence: Cadence, timeZone: string, at: Date): CycleWindow {
  if (cadence.kind === 'fixed') {
    const index = Math.floor((at.getTime() - anchor.getTime()) / cadence.ms);
    const start = anchor.getTime() + index * cadence.ms;
    return { start: new Date(start), end: new Date(start + cadence.ms), index };
  }
  let n = monthNumber(localParts(at.getTime(), timeZone));
  // A month whose first instant is later than `at` can only happen across a skipped midnight; step back.
  if (monthStart(n, timeZone) > at.getTime()) n--;
  const index = n - monthNumber(localParts(anchor.getTime(), timeZone));
  return { start: new Date(monthStart(n, timeZone)), end: new Date(monthStart(n + 1, timeZone)), index };
}

/** The next `count` cycle ends after `from`: a preview of upcoming boundaries. */
export function nextBoundaries(
  anchor: Date,
  cadence: Cadence,
  timeZone: string,
  from: Date,
  count: number,
): Date[] {
  const out: Date[] = [];
  let cycle = cycleContaining(anchor, cadence, timeZone, from);
  for (let i = 0; i < count; i++) {
    out.push(cycle.end);
    cycle = cycleContaining(anchor, cadence, timeZone, cycle.end);
  }
  return out;
}
