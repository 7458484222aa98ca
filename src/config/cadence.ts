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

// Zones whose canonical name in CLDR (and so in Intl on Node 20) is an old spelling that IANA has since
// replaced; the file's own name for them is the IANA one. Runtimes that already answer the IANA name never
// reach this table.
const IANA_NAME = new Map<string, string>([
  ['Africa/Asmera', 'Africa/Asmara'],
  ['America/Buenos_Aires', 'America/Argentina/Buenos_Aires'],
  ['America/Catamarca', 'America/Argentina/Catamarca'],
  ['America/Coral_Harbour', 'America/Atikokan'],
  ['America/Cordoba', 'America/Argentina/Cordoba'],
  ['America/Godthab', 'America/Nuuk'],
  ['America/Indianapolis', 'America/Indiana/Indianapolis'],
  ['America/Jujuy', 'America/Argentina/Jujuy'],
  ['America/Louisville', 'America/Kentucky/Louisville'],
  ['America/Mendoza', 'America/Argentina/Mendoza'],
  ['Asia/Calcutta', 'Asia/Kolkata'],
  ['Asia/Katmandu', 'Asia/Kathmandu'],
  ['Asia/Rangoon', 'Asia/Yangon'],
  ['Asia/Saigon', 'Asia/Ho_Chi_Minh'],
  ['Atlantic/Faeroe', 'Atlantic/Faroe'],
  ['Europe/Kiev', 'Europe/Kyiv'],
  ['Pacific/Enderbury', 'Pacific/Kanton'],
  ['Pacific/Ponape', 'Pacific/Pohnpei'],
  ['Pacific/Truk', 'Pacific/Chuuk'],
]);

/**
 * The one name a valid zone is stored under, whatever alias or case the file used: Intl's canonical zone
 * (`us/eastern`, `US/Eastern` → `America/New_York`; `Etc/UTC`, `utc` → `UTC`), in its current IANA
 * spelling (`Asia/Calcutta`, `asia/kolkata` → `Asia/Kolkata`). So writing another name of the same zone is no
 * zone change, which would start a fresh cycle. Pure; also what API edits of the time zone should store.
 */
export function canonicalTimeZone(tz: string): string {
  if (!isValidTimeZone(tz)) return tz; // e.g. a value written into the database by hand: shown as it is
  const resolved = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  return IANA_NAME.get(resolved) ?? resolved;
}
