// What credits.yaml accepts as account.cycle.cadence and account.cycle.timezone (src/config/cadence.ts).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalTimeZone, isValidTimeZone, parseCadence } from '../../src/config/cadence.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('parseCadence', () => {
  it.each([
    ['15d', 15 * DAY],
    ['1w', 7 * DAY],
    ['1d', DAY],
    ['1h', HOUR],
    ['12h', 12 * HOUR],
    ['24h', DAY],
    ['1m', MINUTE],
    ['30m', 30 * MINUTE],
    ['90m', 90 * MINUTE],
    ['1440m', DAY],
  ])('accepts %s as a fixed cadence', (text, ms) => {
    expect(parseCadence(text)).toEqual({ kind: 'fixed', ms, text });
  });

  it('accepts calendar-month', () => {
    expect(parseCadence('calendar-month')).toEqual({ kind: 'calendar-month' });
  });

  it.each([
    '',
    'calendar',
    'Calendar-Month',
    'monthly',
    '25h',
    '0h',
    '0m',
    '1441m',
    '10000m',
    '99999999999999999999h',
    '07h',
    '01m',
    '00h',
    '2d',
    '2w',
    '30d',
    '15D',
    '1H',
    '1.5h',
    '-1h',
    '+1h',
    ' 1h',
    '1h ',
    '1h\n',
    '1 h',
    '1h30m',
    'h',
    'm',
    '1',
    '1s',
    // Inherited object keys must not pass for named cadences.
    'constructor',
    'toString',
    '__proto__',
    'hasOwnProperty',
  ])('rejects %j', (text) => {
    expect(parseCadence(text)).toBeNull();
  });

  it('<N>h and <N>m are accepted exactly up to one day', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom('h', 'm'), (n, unit) => {
        const ms = n * (unit === 'h' ? HOUR : MINUTE);
        const parsed = parseCadence(`${n}${unit}`);
        expect(parsed).toEqual(ms <= DAY ? { kind: 'fixed', ms, text: `${n}${unit}` } : null);
      }),
    );
  });

  it('anything accepted is calendar-month or a positive length of at most 15 days', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), (text) => {
        const parsed = parseCadence(text);
        if (parsed === null || parsed.kind === 'calendar-month') return;
        expect(Number.isSafeInteger(parsed.ms)).toBe(true);
        expect(parsed.ms).toBeGreaterThan(0);
        expect(parsed.ms).toBeLessThanOrEqual(15 * DAY);
        expect(parsed.text).toBe(text);
      }),
    );
  });
});

describe('isValidTimeZone', () => {
  it.each([
    'UTC',
    'Europe/Berlin',
    'America/New_York',
    'America/Sao_Paulo',
    'Australia/Lord_Howe',
    'Asia/Kolkata',
    'Asia/Kathmandu',
    'Pacific/Chatham',
    'Etc/GMT+5',
  ])('accepts %s', (tz) => {
    expect(isValidTimeZone(tz)).toBe(true);
    // The second answer comes from the cache and must agree.
    expect(isValidTimeZone(tz)).toBe(true);
  });

  it.each([
    '',
    ' ',
    'Mars/Olympus',
    'Europe/Berlinn',
    'Europe/',
    ' UTC',
    'UTC ',
    'Europe/Berlin\n',
    // Offsets are not IANA names (and newer Node versions would accept them).
    '+01:00',
    '-05:00',
    '+0100',
    'constructor',
    '__proto__',
  ])('rejects %j', (tz) => {
    expect(isValidTimeZone(tz)).toBe(false);
    expect(isValidTimeZone(tz)).toBe(false);
  });
});

describe('canonicalTimeZone', () => {
  it('takes Intl spelling when only the case differs', () => {
    expect(canonicalTimeZone('europe/berlin')).toBe('Europe/Berlin');
    expect(canonicalTimeZone('EUROPE/BERLIN')).toBe('Europe/Berlin');
    expect(canonicalTimeZone('utc')).toBe('UTC');
    expect(canonicalTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
  });

  it('stores an alias under the canonical name of its zone, whatever its case', () => {
    expect(canonicalTimeZone('us/eastern')).toBe('America/New_York');
    expect(canonicalTimeZone('US/Eastern')).toBe('America/New_York');
    expect(canonicalTimeZone('US/Pacific')).toBe('America/Los_Angeles');
    expect(canonicalTimeZone('Etc/UTC')).toBe('UTC');
  });

  it('answers the current IANA name where Intl keeps an old CLDR spelling', () => {
    expect(canonicalTimeZone('Asia/Kolkata')).toBe('Asia/Kolkata');
    expect(canonicalTimeZone('Asia/Calcutta')).toBe('Asia/Kolkata');
    expect(canonicalTimeZone('europe/kyiv')).toBe('Europe/Kyiv');
    expect(canonicalTimeZone('America/Argentina/Buenos_Aires')).toBe('America/Argentina/Buenos_Aires');
    expect(canonicalTimeZone('America/Buenos_Aires')).toBe('America/Argentina/Buenos_Aires');
  });

  it('is idempotent on every zone Intl knows', () => {
    for (const tz of Intl.supportedValuesOf('timeZone')) {
      const once = canonicalTimeZone(tz);
      expect(isValidTimeZone(once), tz).toBe(true);
      expect(canonicalTimeZone(once), tz).toBe(once);
    }
  });

  it('leaves an unknown zone as it is', () => {
    expect(canonicalTimeZone('Mars/Olympus')).toBe('Mars/Olympus');
  });
});
