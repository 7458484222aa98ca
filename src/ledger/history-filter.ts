// The filters every history list shares (usage, its summary, the audit log): a member, a group and a
// half-open time range [from, to). Checked once here, for the API and the CLI alike; bad input is a coded
// error before any SQL runs.
import { CreditsError } from '../errors.js';
import { ID_PART } from './page.js';

export interface HistoryFilterInput {
  member?: string;
  group?: string;
  from?: string;
  to?: string;
}

export interface HistoryFilter {
  member: string | null;
  group: string | null;
  /** Inclusive, ISO 8601 UTC. */
  from: string | null;
  /** Exclusive, ISO 8601 UTC. */
  to: string | null;
}

// A calendar date (UTC midnight) or a date-time with seconds optional, fractions up to microseconds, and
// an explicit offset: a time without a zone would mean different instants on different machines.
const DATE = /^\d{4}-\d\d-\d\d$/;
const DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]\d\d:\d\d)$/;

/** An ISO 8601 instant as UTC ISO text, or INVALID_DATE naming the field. */
export function parseInstant(field: string, text: string): string {
  const ok = DATE.test(text) || DATE_TIME.test(text);
  const date = ok ? new Date(DATE.test(text) ? `${text}T00:00:00Z` : text) : undefined;
  // Date() rolls 2026-02-31 over to March; a date that does not name itself back is refused.
  const day = text.slice(0, 10);
  if (!date || Number.isNaN(date.getTime()) || !sameDay(day, text, date) || !storable(date)) {
    throw new CreditsError('INVALID_DATE', { field, value: text.slice(0, 60) }, { field });
  }
  return date.toISOString();
}

/**
 * Years 1 to 9999 in UTC: PostgreSQL has no year 0, and toISOString writes year 10000 as `+010000`, which it
 * cannot read. Refused here, or the query would fail after a CSV export had sent its header.
 */
const storable = (date: Date): boolean => date.getUTCFullYear() >= 1 && date.getUTCFullYear() <= 9999;

/** The calendar day in the text must exist: check it in the text's own offset. */
function sameDay(day: string, text: string, date: Date): boolean {
  const offset = /([+-])(\d\d):(\d\d)$/.exec(text);
  const minutes = offset ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) : 0;
  return new Date(date.getTime() + minutes * 60_000).toISOString().slice(0, 10) === day;
}

export function historyFilter(input: HistoryFilterInput): HistoryFilter {
  const from = input.from === undefined ? null : parseInstant('from', input.from);
  const to = input.to === undefined ? null : parseInstant('to', input.to);
  if (from !== null && to !== null && from >= to) {
    throw new CreditsError('INVALID_TIME_RANGE', { from, to });
  }
  return {
    member: input.member === undefined ? null : input.member.toLowerCase(),
    group: input.group ?? null,
    from,
    to,
  };
}

/** Most rows one page of a history list holds. */
export const MAX_HISTORY_PAGE = 1000;
export const DEFAULT_HISTORY_PAGE = 100;
/** Rows fetched per query when a whole history is streamed (CSV export). */
export const HISTORY_BATCH = 1000;

export const historyLimit = (limit: number | undefined): number =>
  Math.min(Math.max(Math.trunc(limit ?? DEFAULT_HISTORY_PAGE) || DEFAULT_HISTORY_PAGE, 1), MAX_HISTORY_PAGE);

/** The keyset of a history list is its serial id: a cursor holds the last id handed out. */
export const ID_CURSOR = [ID_PART];
