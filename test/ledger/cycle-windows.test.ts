// Cycle arithmetic (src/ledger/cycle-windows.ts): examples across DST and odd offsets, then properties 1970–2100.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseCadence, type Cadence } from '../../src/config/cadence.js';
import {
  cycleAtIndex,
  cycleContaining,
  nextBoundaries,
  startOfCycleAt,
  startOfLocalDay,
} from '../../src/ledger/cycle-windows.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const cadence = (text: string): Cadence => {
  const c = parseCadence(text);
  if (!c) throw new Error(`test bug: ${text} is not a cadence`);
  return c;
};
const MONTHLY = cadence('calendar-month');
const iso = (s: string): Date => new Date(s);
const span = (c: { start: Date; end: Date }) => [c.start.toISOString(), c.end.toISOString()];

// The local clock through a formatter of its own (sv-SE prints `2026-04-01 00:00:00`, which sorts as text),
// so the checks do not lean on the parsing that the code under test does.
const wallFormats = new Map<string, Intl.DateTimeFormat>();
function wall(t: Date | number, zone: string): string {
  let f = wallFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('sv-SE', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    wallFormats.set(zone, f);
  }
  return f.format(typeof t === 'number' ? new Date(t) : t);
}
const wallAsUtc = (t: number, zone: string): number => Date.parse(`${wall(t, zone).replace(' ', 'T')}Z`);
const monthNumber = (local: string): number => Number(local.slice(0, 4)) * 12 + Number(local.slice(5, 7)) - 1;

/** A calendar cycle start: the first instant whose local date is the 1st of its month or later. */
function expectFirstInstantOfMonth(start: Date, zone: string): void {
  const t = start.getTime();
  const local = wall(t, zone);
  const first = `${local.slice(0, 7)}-01`;
  expect(local.slice(0, 10) >= first).toBe(true);
  expect(wall(t - SECOND, zone).slice(0, 10) < first).toBe(true);
  if (local !== `${first} 00:00:00`) {
    // Midnight was skipped, so the start must sit exactly on a clock jump.
    expect(wallAsUtc(t, zone) - wallAsUtc(t - SECOND, zone)).toBeGreaterThan(SECOND);
  }
}

describe('calendar-month examples', () => {
  it('Berlin, March 2026 DST: the April cycle starts 2026-03-31T22:00Z, March at 2026-02-28T23:00Z', () => {
    const anchor = iso('2026-01-10T12:00:00Z');
    const april = cycleContaining(anchor, MONTHLY, 'Europe/Berlin', iso('2026-04-15T12:00:00Z'));
    expect(span(april)).toEqual(['2026-03-31T22:00:00.000Z', '2026-04-30T22:00:00.000Z']);
    expect(april.index).toBe(3);
    const march = cycleContaining(anchor, MONTHLY, 'Europe/Berlin', iso('2026-03-29T01:30:00Z'));
    expect(span(march)).toEqual(['2026-02-28T23:00:00.000Z', '2026-03-31T22:00:00.000Z']);
    expect(march.index).toBe(2);
    // 30 days and 23 hours: the month lost the hour DST took.
    expect(march.end.getTime() - march.start.getTime()).toBe(31 * DAY - HOUR);
  });

  it('boundaries are half-open to the millisecond', () => {
    const anchor = iso('2026-01-01T00:00:00Z');
    const before = cycleContaining(anchor, MONTHLY, 'Europe/Berlin', iso('2026-03-31T21:59:59.999Z'));
    const at = cycleContaining(anchor, MONTHLY, 'Europe/Berlin', iso('2026-03-31T22:00:00.000Z'));
    expect(before.start.toISOString()).toBe('2026-02-28T23:00:00.000Z');
    expect(at.start.toISOString()).toBe('2026-03-31T22:00:00.000Z');
    expect(at.index).toBe(before.index + 1);
  });

  it('New York: March 2026 starts in EST, November 2026 starts in EDT and ends in EST', () => {
    const anchor = iso('2026-01-01T05:00:00Z');
    const march = cycleContaining(anchor, MONTHLY, 'America/New_York', iso('2026-03-20T00:00:00Z'));
    expect(span(march)).toEqual(['2026-03-01T05:00:00.000Z', '2026-04-01T04:00:00.000Z']);
    // DST ends on 1 November 2026 at 02:00, after midnight: the cycle starts in EDT.
    const nov = cycleContaining(anchor, MONTHLY, 'America/New_York', iso('2026-11-01T05:30:00Z'));
    expect(span(nov)).toEqual(['2026-11-01T04:00:00.000Z', '2026-12-01T05:00:00.000Z']);
    expect(nov.index).toBe(10);
  });

  it('half-hour and quarter-hour zones: Lord Howe, Kolkata, Kathmandu, Chatham', () => {
    const anchor = iso('2026-01-15T00:00:00Z');
    const at = (zone: string, s: string) => span(cycleContaining(anchor, MONTHLY, zone, iso(s)));
    // Lord Howe keeps +11 in summer and +10:30 in winter (a 30-minute DST).
    expect(at('Australia/Lord_Howe', '2026-04-10T00:00:00Z')).toEqual([
      '2026-03-31T13:00:00.000Z',
      '2026-04-30T13:30:00.000Z',
    ]);
    expect(at('Asia/Kolkata', '2026-04-10T00:00:00Z')).toEqual([
      '2026-03-31T18:30:00.000Z',
      '2026-04-30T18:30:00.000Z',
    ]);
    expect(at('Asia/Kathmandu', '2026-04-10T00:00:00Z')).toEqual([
      '2026-03-31T18:15:00.000Z',
      '2026-04-30T18:15:00.000Z',
    ]);
    // Chatham: +13:45 in summer, +12:45 from 5 April 2026.
    expect(at('Pacific/Chatham', '2026-01-10T00:00:00Z')).toEqual([
      '2025-12-31T10:15:00.000Z',
      '2026-01-31T10:15:00.000Z',
    ]);
    expect(at('Pacific/Chatham', '2026-04-10T00:00:00Z')).toEqual([
      '2026-03-31T10:15:00.000Z',
      '2026-04-30T11:15:00.000Z',
    ]);
  });

  it('a skipped midnight on the 1st starts the cycle at the first instant of the day', () => {
    const anchor = iso('1970-01-01T00:00:00Z');
    const start = (zone: string, s: string) =>
      cycleContaining(anchor, MONTHLY, zone, iso(s)).start.toISOString();
    // Nepal moved from +05:30 to +05:45 at midnight: 1 January 1986 began at 00:15.
    expect(start('Asia/Kathmandu', '1986-01-05T00:00:00Z')).toBe('1985-12-31T18:30:00.000Z');
    expect(wall(iso('1985-12-31T18:30:00Z'), 'Asia/Kathmandu')).toBe('1986-01-01 00:15:00');
    // Lord Howe moved from +10 to +10:30 at midnight on 1 March 1981.
    expect(start('Australia/Lord_Howe', '1981-03-10T00:00:00Z')).toBe('1981-02-28T14:00:00.000Z');
    // Paraguay and Cuba began DST at midnight on the 1st.
    expect(start('America/Asuncion', '2017-10-10T00:00:00Z')).toBe('2017-10-01T04:00:00.000Z');
    expect(start('America/Havana', '2012-04-10T00:00:00Z')).toBe('2012-04-01T05:00:00.000Z');
  });

  it("a midnight repeated on the 1st: St. John's 1 November 2009 starts at the first midnight", () => {
    // Newfoundland fell back at 00:01 to 23:01 the day before: after the cycle starts, the clock reads
    // 31 October again for an hour, and those instants still belong to November.
    const anchor = iso('2009-01-01T12:00:00Z');
    const zone = 'America/St_Johns';
    const inGap = iso('2009-11-01T03:00:00Z');
    expect(wall(inGap, zone)).toBe('2009-10-31 23:30:00');
    const nov = cycleContaining(anchor, MONTHLY, zone, inGap);
    expect(span(nov)).toEqual(['2009-11-01T02:30:00.000Z', '2009-12-01T03:30:00.000Z']);
    expect(nov.index).toBe(10);
    const oct = cycleContaining(anchor, MONTHLY, zone, iso('2009-11-01T02:29:59.999Z'));
    expect(oct.end.toISOString()).toBe('2009-11-01T02:30:00.000Z');
  });

  it('Sao Paulo: the month is unaffected by the midnight DST gap of 4 November 2018', () => {
    const nov = cycleContaining(
      iso('2018-01-01T00:00:00Z'),
      MONTHLY,
      'America/Sao_Paulo',
      iso('2018-11-04T12:00Z'),
    );
    expect(span(nov)).toEqual(['2018-11-01T03:00:00.000Z', '2018-12-01T02:00:00.000Z']);
    // The day itself began at 01:00 local.
    expect(new Date(startOfLocalDay(2018, 10, 4, 'America/Sao_Paulo')).toISOString()).toBe(
      '2018-11-04T03:00:00.000Z',
    );
  });

  it('a day skipped whole starts at the first instant of the next day (Samoa, 30 December 2011)', () => {
    expect(new Date(startOfLocalDay(2011, 11, 30, 'Pacific/Apia')).toISOString()).toBe(
      '2011-12-30T10:00:00.000Z',
    );
  });

  it('month lengths: 31st, February and leap years (2024 and 2000 leap; 1900 and 2100 not)', () => {
    const anchor = iso('2000-01-01T00:00:00Z');
    const days = (s: string) => {
      const c = cycleContaining(anchor, MONTHLY, 'UTC', iso(s));
      return (c.end.getTime() - c.start.getTime()) / DAY;
    };
    expect(days('2024-02-29T23:59:59.999Z')).toBe(29);
    expect(days('2000-02-15T00:00:00Z')).toBe(29);
    expect(days('1900-02-15T00:00:00Z')).toBe(28);
    expect(days('2100-02-28T12:00:00Z')).toBe(28);
    expect(days('2026-02-15T00:00:00Z')).toBe(28);
    expect(days('2026-01-31T23:59:59.999Z')).toBe(31);
    expect(days('2026-04-30T12:00:00Z')).toBe(30);
    const dec = cycleContaining(anchor, MONTHLY, 'UTC', iso('2099-12-31T23:59:59.999Z'));
    expect(span(dec)).toEqual(['2099-12-01T00:00:00.000Z', '2100-01-01T00:00:00.000Z']);
  });

  it('boundaries do not depend on the anchor; the index counts months from the anchor month', () => {
    const at = iso('2026-06-15T00:00:00Z');
    const a = cycleContaining(iso('2026-06-14T00:00:00Z'), MONTHLY, 'Europe/Berlin', at);
    const b = cycleContaining(iso('2020-02-29T12:00:00Z'), MONTHLY, 'Europe/Berlin', at);
    const c = cycleContaining(iso('2027-01-01T00:00:00Z'), MONTHLY, 'Europe/Berlin', at);
    expect(span(a)).toEqual(span(b));
    expect(span(a)).toEqual(span(c));
    expect([a.index, b.index, c.index]).toEqual([0, 76, -7]);
  });
});

describe('fixed cadence examples', () => {
  it('1d in Berlin is 24 hours of elapsed time, not a local day, across the DST change', () => {
    const anchor = iso('2026-02-28T23:00:00Z'); // 1 March 00:00 in Berlin
    const c = cycleContaining(anchor, cadence('1d'), 'Europe/Berlin', iso('2026-03-29T12:00:00Z'));
    expect(span(c)).toEqual(['2026-03-28T23:00:00.000Z', '2026-03-29T23:00:00.000Z']);
    expect(c.index).toBe(28);
    expect(wall(c.end, 'Europe/Berlin')).toBe('2026-03-30 01:00:00');
  });

  it('an idle gap of 10 years with a 1h cadence gives the right index at once', () => {
    const anchor = iso('2016-01-01T00:00:00Z');
    const began = performance.now();
    const c = cycleContaining(anchor, cadence('1h'), 'Europe/Berlin', iso('2026-01-01T00:30:00Z'));
    expect(performance.now() - began).toBeLessThan(100);
    // 3653 days: 2016, 2020 and 2024 are leap years.
    expect(c.index).toBe(3653 * 24);
    expect(span(c)).toEqual(['2026-01-01T00:00:00.000Z', '2026-01-01T01:00:00.000Z']);
  });

  it('68 million 1m cycles between 1970 and 2100 are skipped without counting them', () => {
    const began = performance.now();
    const c = cycleContaining(iso('1970-01-01T00:00:00Z'), cadence('1m'), 'UTC', iso('2100-01-01T00:00:30Z'));
    expect(performance.now() - began).toBeLessThan(100);
    expect(c.index).toBe(47_482 * 24 * 60);
  });

  it('instants before the anchor get negative indexes', () => {
    const c = cycleContaining(
      iso('2026-01-01T00:00:00Z'),
      cadence('15d'),
      'UTC',
      iso('2025-12-31T23:59:59Z'),
    );
    expect(c.index).toBe(-1);
    expect(span(c)).toEqual(['2025-12-17T00:00:00.000Z', '2026-01-01T00:00:00.000Z']);
  });
});

describe('nextBoundaries and helpers', () => {
  it('previews the next ends after `from`', () => {
    const from = iso('2026-03-15T00:00:00Z');
    expect(nextBoundaries(from, MONTHLY, 'Europe/Berlin', from, 3).map((d) => d.toISOString())).toEqual([
      '2026-03-31T22:00:00.000Z',
      '2026-04-30T22:00:00.000Z',
      '2026-05-31T22:00:00.000Z',
    ]);
    const anchor = iso('2026-03-15T00:00:00Z');
    const ends = nextBoundaries(anchor, cadence('12h'), 'UTC', iso('2026-03-15T12:00:00Z'), 2);
    expect(ends.map((d) => d.toISOString())).toEqual([
      '2026-03-16T00:00:00.000Z',
      '2026-03-16T12:00:00.000Z',
    ]);
    expect(nextBoundaries(anchor, MONTHLY, 'UTC', anchor, 0)).toEqual([]);
  });

  it('startOfCycleAt and cycleAtIndex agree with cycleContaining', () => {
    const anchor = iso('2026-01-20T00:00:00Z');
    const at = iso('2026-05-02T00:00:00Z');
    const c = cycleContaining(anchor, MONTHLY, 'America/New_York', at);
    expect(startOfCycleAt(anchor, MONTHLY, 'America/New_York', at)).toEqual(c.start);
    expect(cycleAtIndex(anchor, MONTHLY, 'America/New_York', c.index)).toEqual(c);
  });

  it('refuses invalid dates, unknown zones and impossible cadences', () => {
    const t = iso('2026-01-01T00:00:00Z');
    expect(() => cycleContaining(t, MONTHLY, 'UTC', new Date(NaN))).toThrow(RangeError);
    expect(() => cycleContaining(new Date(NaN), cadence('1d'), 'UTC', t)).toThrow(RangeError);
    expect(() => cycleContaining(t, MONTHLY, 'Mars/Olympus', t)).toThrow(RangeError);
    expect(() => cycleContaining(t, { kind: 'fixed', ms: 0, text: '0m' }, 'UTC', t)).toThrow(RangeError);
  });
});

describe('every month 1970–2100 starts at the first instant of its 1st', () => {
  // Zones of the examples plus the ones with a skipped or repeated midnight on some 1st.
  const zones = [
    'UTC',
    'Europe/Berlin',
    'America/New_York',
    'Australia/Lord_Howe',
    'Asia/Kathmandu',
    'Pacific/Chatham',
    'America/St_Johns',
    'America/Asuncion',
    'America/Havana',
    'America/Sao_Paulo',
  ];
  it.each(zones)('%s', (zone) => {
    const anchor = iso('1970-01-01T00:00:00Z');
    let c = cycleContaining(anchor, MONTHLY, zone, iso('1970-01-15T00:00:00Z'));
    for (let i = 0; i < 131 * 12; i++) {
      expectFirstInstantOfMonth(c.start, zone);
      const next = cycleAtIndex(anchor, MONTHLY, zone, c.index + 1);
      expect(next.start).toEqual(c.end);
      expect(monthNumber(wall(next.start, zone))).toBe(monthNumber(wall(c.start, zone)) + 1);
      c = next;
    }
  });
});

describe('properties', () => {
  const ZONES = [
    'UTC',
    'Europe/Berlin',
    'America/New_York',
    'Australia/Lord_Howe',
    'Asia/Kathmandu',
    'Pacific/Chatham',
  ];
  const MIN = Date.UTC(1970, 0, 1);
  const MAX = Date.UTC(2100, 0, 1);
  const zone = fc.constantFrom(...ZONES);
  // Uniform instants rarely land near a boundary; half of them are drawn within two days of a month start.
  const nearMonthStart = fc
    .record({
      year: fc.integer({ min: 1970, max: 2099 }),
      month: fc.integer({ min: 0, max: 11 }),
      offset: fc.integer({ min: -2 * DAY, max: 2 * DAY }),
    })
    .map(({ year, month, offset }) => Math.min(MAX, Math.max(MIN, Date.UTC(year, month, 1) + offset)));
  const instant = fc.oneof(fc.integer({ min: MIN, max: MAX }), nearMonthStart).map((t) => new Date(t));
  const fixedText = fc.oneof(
    fc.constantFrom('15d', '1w', '1d'),
    fc.integer({ min: 1, max: 24 }).map((n) => `${n}h`),
    fc.integer({ min: 1, max: 1440 }).map((n) => `${n}m`),
  );
  const anyCadence = fc.oneof(fc.constant('calendar-month'), fixedText).map(cadence);
  const runs = { numRuns: 300 };

  it('start <= at < end, and the anchor is in cycle 0', () => {
    fc.assert(
      fc.property(anyCadence, zone, instant, instant, (cad, tz, anchor, at) => {
        const c = cycleContaining(anchor, cad, tz, at);
        expect(c.start.getTime()).toBeLessThanOrEqual(at.getTime());
        expect(at.getTime()).toBeLessThan(c.end.getTime());
        expect(cycleContaining(anchor, cad, tz, anchor).index).toBe(0);
        expect(startOfCycleAt(anchor, cad, tz, at)).toEqual(c.start);
      }),
      runs,
    );
  });

  it('cycles are contiguous: the next starts at end, the previous ends at start', () => {
    fc.assert(
      fc.property(anyCadence, zone, instant, instant, (cad, tz, anchor, at) => {
        const c = cycleContaining(anchor, cad, tz, at);
        const next = cycleContaining(anchor, cad, tz, c.end);
        expect(next.start).toEqual(c.end);
        expect(next.index).toBe(c.index + 1);
        const prev = cycleContaining(anchor, cad, tz, new Date(c.start.getTime() - 1));
        expect(prev.end).toEqual(c.start);
        expect(prev.index).toBe(c.index - 1);
        expect(cycleAtIndex(anchor, cad, tz, c.index)).toEqual(c);
      }),
      runs,
    );
  });

  it('the index never decreases with time, and is equal exactly within one cycle', () => {
    fc.assert(
      fc.property(anyCadence, zone, instant, instant, instant, (cad, tz, anchor, x, y) => {
        const [a, b] = x <= y ? [x, y] : [y, x];
        const ca = cycleContaining(anchor, cad, tz, a);
        const cb = cycleContaining(anchor, cad, tz, b);
        expect(ca.index).toBeLessThanOrEqual(cb.index);
        expect(ca.index === cb.index).toBe(ca.start.getTime() === cb.start.getTime());
      }),
      runs,
    );
  });

  it('calendar months start at local 00:00 on the 1st (or its first instant) and are one month apart', () => {
    fc.assert(
      fc.property(zone, instant, instant, (tz, anchor, at) => {
        const c = cycleContaining(anchor, MONTHLY, tz, at);
        expectFirstInstantOfMonth(c.start, tz);
        expectFirstInstantOfMonth(c.end, tz);
        expect(monthNumber(wall(c.end, tz))).toBe(monthNumber(wall(c.start, tz)) + 1);
        // No earlier instant within a day reaches the 1st (sampled at the quarter hours offsets use).
        const first = `${wall(c.start, tz).slice(0, 7)}-01`;
        const quarter = 15 * MINUTE;
        for (
          let t = Math.ceil((c.start.getTime() - DAY) / quarter) * quarter;
          t < c.start.getTime();
          t += quarter
        ) {
          expect(wall(t, tz).slice(0, 10) < first).toBe(true);
        }
        expect(c.index).toBe(
          monthNumber(wall(c.start, tz)) - monthNumber(wall(startOfCycleAt(anchor, MONTHLY, tz, anchor), tz)),
        );
      }),
      runs,
    );
  });

  it('fixed cycles last exactly their length and start on anchor + k·length', () => {
    fc.assert(
      fc.property(
        fixedText,
        zone,
        instant,
        instant,
        fc.integer({ min: -1, max: 1 }),
        (text, tz, anchor, at, nudge) => {
          const cad = cadence(text) as Extract<Cadence, { kind: 'fixed' }>;
          const c = cycleContaining(anchor, cad, tz, at);
          expect(c.end.getTime() - c.start.getTime()).toBe(cad.ms);
          expect(c.start.getTime() - anchor.getTime()).toBe(c.index * cad.ms);
          // Right at a boundary (and a millisecond either side) the cycle flips exactly there.
          const boundary = c.end.getTime();
          const near = cycleContaining(anchor, cad, tz, new Date(boundary + nudge));
          expect(near.index).toBe(nudge < 0 ? c.index : c.index + 1);
        },
      ),
      runs,
    );
  });

  it('nextBoundaries lists consecutive cycle ends after `from`', () => {
    fc.assert(
      fc.property(
        anyCadence,
        zone,
        instant,
        instant,
        fc.integer({ min: 0, max: 5 }),
        (cad, tz, anchor, from, n) => {
          const ends = nextBoundaries(anchor, cad, tz, from, n);
          expect(ends).toHaveLength(n);
          let previous = from.getTime();
          let expected = cycleContaining(anchor, cad, tz, from);
          for (const end of ends) {
            expect(end.getTime()).toBeGreaterThan(previous);
            expect(end).toEqual(expected.end);
            previous = end.getTime();
            expected = cycleContaining(anchor, cad, tz, end);
          }
        },
      ),
      runs,
    );
  });
});
