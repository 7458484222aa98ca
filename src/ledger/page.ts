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

/** The sort key inside a cursor: `arity` strings, each matching its pattern, or INVALID_CURSOR. */
export function decodeCursor(cursor: string, patterns: RegExp[]): string[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new CreditsError('INVALID_CURSOR');
  }
  if (
    !Array.isArray(key) ||
    key.length !== patterns.length ||
    !key.every((k, i) => typeof k === 'string' && patterns[i]!.test(k))
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
