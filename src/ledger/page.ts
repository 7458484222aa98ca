// Pages of a list: at most `limit` items, and an opaque cursor that continues after the last one (null at
// the end). A cursor is the sort key of the last item, base64url JSON; a cursor we did not hand out is
// INVALID_CURSOR, never an SQL error.
import { CreditsError } from '../errors.js';

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 500;

export interface PageQuery {
  cursor?: string;
  limit?: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const encodeCursor = (key: string[]): string => Buffer.from(JSON.stringify(key)).toString('base64url');

/**
 * A part of a cursor's key: a pattern, or a test for what a pattern cannot say (a real instant). Each must
 * admit only values the database can compare with, or a forged cursor becomes its error instead of ours.
 */
export type CursorPart = RegExp | ((text: string) => boolean);

/** A serial id: at most 18 digits, inside bigint. */
export const ID_PART = /^\d{1,18}$/;
export const UUID_PART = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** An instant as cursors write it (UTC, microseconds), one that exists, in years 1 to 9999. */
export const INSTANT_PART = (text: string): boolean => {
  if (!/^(\d{4})-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(text) || text.startsWith('0000')) return false;
  const at = new Date(text);
  return !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 19) === text.slice(0, 19);
};

const matches = (part: CursorPart, text: string): boolean =>
  typeof part === 'function' ? part(text) : part.test(text);

/** The sort key inside a cursor: one string per part, each matching it, or INVALID_CURSOR. */
export function decodeCursor(cursor: string, patterns: CursorPart[]): string[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new CreditsError('INVALID_CURSOR');
  }
  if (
    !Array.isArray(key) ||
    key.length !== patterns.length ||
    !key.every((k, i) => typeof k === 'string' && matches(patterns[i]!, k))
  ) {
    throw new CreditsError('INVALID_CURSOR');
  }
  return key as string[];
}

export const pageLimit = (q: PageQuery): number =>
  Math.min(Math.max(Math.trunc(q.limit ?? DEFAULT_PAGE_LIMIT), 1), MAX_PAGE_LIMIT);

/**
 * Rows fetched with LIMIT limit + 1 become a page: the extra row only says there is more, and the cursor
 * is the key of the last row kept.
 */
export function pageOf<R, T>(
  rows: R[],
  limit: number,
  keyOf: (row: R) => string[],
  map: (row: R) => T,
): Page<T> {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return {
    items: kept.map(map),
    nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null,
  };
}
