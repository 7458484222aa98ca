// Cycle arithmetic: examples across DST and month ends, and fast-check properties over zones and cadences.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cycleContaining, localParts, nextBoundaries } from '../../src/ledger/cycle.js';
import { parseCadence, isValidTimeZone, type Cadence } from '../../src/config/cadence.js';

const month = parseCadence('calendar-month')!;
const iso = (d: Date) => d.toISOString();

describe('calendar months', () => {
  it('start at local midnight on the 1st in Europe/Berlin, across DST', () => {
    const april = cycleContaining(
      new Date('2026-01-01T00:00:00Z'),
      month,
      'Europe/Berlin',
      new Date('2026-04-15T12:00:00Z'),
    );
    expect(iso(april.start)).toBe('2026-03-31T22:00:00.000Z'); // CEST, UTC+2
    expect(iso(april.end)).toBe('2026-04-30T22:00:00.000Z');
    const march = cycleContaining(
      new Date('2026-01-01T00:00:00Z'),
      month,
      'Europe/Berlin',
      new Date('2026-03-29T12:00:00Z'),
    );
    expect(iso(march.start)).toBe('2026-02-28T23:00:00.000Z'); // CET, UTC+1
    expect(iso(march.end)).toBe('2026-03-31T22:00:00.000Z'); // the month is 743 hours long
  });

  it('handle February in leap and common years, and the 31st', () => {
    const z = 'UTC';
    expect(iso(cycleContaining(new Date(0), month, z, new Date('2024-02-29T23:59:59Z')).end)).toBe(
      '2024-03-01T00:00:00.000Z',
    );
    expect(iso(cycleContaining(new Date(0), month, z, new Date('2100-02-28T12:00:00Z')).end)).toBe(
      '2100-03-01T00:00:00.000Z',
    );
    expect(iso(cycleContaining(new Date(0), month, z, new Date('2000-02-29T00:00:00Z')).start)).toBe(
      '2000-02-01T00:00:00.000Z',
    );
    expect(iso(cycleContaining(new Date(0), month, z, new Date('2026-01-31T23:59:59.999Z')).end)).toBe(
      '2026-02-01T00:00:00.000Z',
    );
  });

  it('count cycles from the anchor by index, instantly across a long idle gap', () => {
    const c = cycleContaining(
      new Date('2026-01-15T00:00:00Z'),
      month,
      'America/New_York',
      new Date('2036-01-15T00:00:00Z'),
    );
    expect(c.index).toBe(120);
  });
});

describe('fixed cadences', () => {
  it('1d in Berlin is 24 hours of elapsed time, anchored at the reset', () => {
    const anchor = new Date('2026-03-28T10:00:00Z');
    const c = cycleContaining(anchor, parseCadence('1d')!, 'Europe/Berlin', new Date('2026-03-29T12:00:00Z'));
    expect(iso(c.start)).toBe('2026-03-29T10:00:00.000Z');
    expect(c.end.getTime() - c.start.getTime()).toBe(86_400_000);
  });

  it('skip ten idle years of hourly cycles by arithmetic', () => {
    const anchor = new Date('2020-01-01T00:30:00Z');
    const c = cycleContaining(anchor, parseCadence('1h')!, 'UTC', new Date('2030-01-01T00:45:00Z'));
    expect(c.index).toBe(87_672);
    expect(iso(c.start)).toBe('2030-01-01T00:30:00.000Z');
  });

  it('preview lists the next boundaries', () => {
    const ends = nextBoundaries(
      new Date('2026-01-01T00:00:00Z'),
      parseCadence('1w')!,
      'UTC',
      new Date('2026-01-02T00:00:00Z'),
      3,
    );
    expect(ends.map(iso)).toEqual([
      '2026-01-08T00:00:00.000Z',
      '2026-01-15T00:00:00.000Z',
      '2026-01-22T00:00:00.000Z',
    ]);
  });
});

describe('cadences and zones', () => {
  it.each(['calendar-month', '15d', '1w', '1d', '12h', '24h', '30m', '1440m'])('%s is a cadence', (c) => {
    expect(parseCadence(c)).not.toBeNull();
  });
  it.each(['25h', '0h', '1441m', '07h', '2d', '2w', 'monthly', '', '1.5h'])('%s is not', (c) => {
    expect(parseCadence(c)).toBeNull();
  });
  it('time zones are IANA names', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });
});

const zones = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'Pacific/Chatham',
  'America/Sao_Paulo',
];
const cadences: Cadence[] = ['calendar-month', '15d', '1w', '1d', '12h', '90m'].map((c) => parseCadence(c)!);
const instant = fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2099, 11, 1) }).map((t) => new Date(t));

describe('cycle properties (fast-check)', () => {
  it('contain their instant, are contiguous and monotonic in every zone and cadence', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.constantFrom(...cadences),
        instant,
        instant,
        (zone, cadence, anchor, at) => {
          const c = cycleContaining(anchor, cadence, zone, at);
          expect(c.start.getTime()).toBeLessThanOrEqual(at.getTime());
          expect(at.getTime()).toBeLessThan(c.end.getTime());
          const next = cycleContaining(anchor, cadence, zone, c.end);
          expect(next.start.getTime()).toBe(c.end.getTime()); // contiguous
          expect(next.index).toBe(c.index + 1); // monotonic
          const prev = cycleContaining(anchor, cadence, zone, new Date(c.start.getTime() - 1));
          expect(prev.end.getTime()).toBe(c.start.getTime());
          if (cadence.kind === 'fixed') expect(c.end.getTime() - c.start.getTime()).toBe(cadence.ms);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('calendar months start on day 1 at local midnight (or the first instant of day 1), one local month apart', () => {
    fc.assert(
      fc.property(fc.constantFrom(...zones), instant, (zone, at) => {
        const c = cycleContaining(at, month, zone, at);
        const start = localParts(c.start.getTime(), zone);
        expect(start.day).toBe(1);
        const before = localParts(c.start.getTime() - 1000, zone);
        expect(before.day === 1 && before.month === start.month).toBe(false); // nothing of day 1 before it
        const end = localParts(c.end.getTime(), zone);
        expect(end.year * 12 + end.month - (start.year * 12 + start.month)).toBe(1);
      }),
      { numRuns: 400 },
    );
  });
});
