// The API's JSON body parser. Before JSON.parse (Fastify's own, with prototype-poisoning checks) one linear
// scan of the raw text refuses bodies nested too deep and keeps the source text of every number that is a
// direct property of the body, or a property of an object in an array that is one (the events of
// POST /v1/usage/batch): Node 20's JSON.parse shows a reviver no source text, and amounts must be judged by
// what the client wrote (src/api/amounts.ts), not by the float it parses to.
import type { FastifyInstance } from 'fastify';
import { CreditsError } from '../errors.js';

/** Deepest nesting of objects and arrays a body may have; the body itself is level 1. */
export const MAX_BODY_DEPTH = 32;

declare module 'fastify' {
  interface FastifyRequest {
    /** Source text of each number-valued top-level property of a JSON object body. */
    jsonNumbers?: Map<string, string>;
    /**
     * For each top-level array property: the source texts of the number-valued properties of the objects in
     * it, by position (`jsonItemNumbers.get('events')[3].get('credits')`; no entry when an item has none).
     */
    jsonItemNumbers?: Map<string, Map<string, string>[]>;
  }
}

/** What one scan of a body keeps. */
export interface ScannedNumbers {
  numbers: Map<string, string>;
  itemNumbers: Map<string, Map<string, string>[]>;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether a character code can continue a JSON number token (digits, sign, point, exponent). */
const inNumber = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2b || c === 0x2d || c === 0x65 || c === 0x45;

/** A key written with escapes, as JSON.parse reads it; undefined when it is not JSON (refused next anyway). */
function decodeKey(literal: string): string | undefined {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return undefined;
  }
}

/** The end of the JSON number token that starts at `i`. */
const numberEnd = (text: string, i: number): number => {
  let end = i + 1;
  while (end < text.length && inNumber(text.charCodeAt(end))) end++;
  return end;
};

/**
 * Depth check and number texts (top-level properties, properties of objects in top-level arrays), in one
 * pass. Only strings need care (brackets inside them do not count); whether the text is JSON at all is
 * JSON.parse's to say afterwards.
 */
export function scanJson(text: string, maxDepth = MAX_BODY_DEPTH): ScannedNumbers {
  const numbers = new Map<string, string>();
  const itemNumbers = new Map<string, Map<string, string>[]>();
  let depth = 0;
  let topIsObject = false;
  let expectKey = false;
  let key: string | undefined;
  // Level 2: an array that is a top-level property, and the position of its current item.
  let items: Map<string, string>[] | undefined;
  let index = 0;
  // Level 3: an object that is an item of that array, and its current key.
  let inItem = false;
  let itemExpectKey = false;
  let itemKey: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === QUOTE) break;
        if (d === BACKSLASH) {
          escaped = true;
          i++;
        }
      }
      const keyText = () => (escaped ? decodeKey(text.slice(start, i + 1)) : text.slice(start + 1, i));
      if (depth === 1 && topIsObject && expectKey) {
        key = keyText();
        expectKey = false;
      } else if (depth === 3 && inItem && itemExpectKey) {
        itemKey = keyText();
        itemExpectKey = false;
      }
    } else if (c === 0x7b || c === 0x5b) {
      // { [
      depth++;
      if (depth > maxDepth) throw new CreditsError('BODY_TOO_DEEP', { limit: maxDepth });
      if (depth === 1) {
        topIsObject = c === 0x7b;
        expectKey = topIsObject;
      } else if (depth === 2 && topIsObject && c === 0x5b && key !== undefined) {
        items = [];
        index = 0;
        itemNumbers.set(key, items);
      } else if (depth === 3 && items && c === 0x7b) {
        inItem = true;
        itemExpectKey = true;
        itemKey = undefined;
      }
    } else if (c === 0x7d || c === 0x5d) {
      // } ]
      depth--;
      if (depth === 1) items = undefined;
      else if (depth === 2) inItem = false;
    } else if (depth === 1 && topIsObject) {
      if (c === 0x2c) {
        // ,
        expectKey = true;
      } else if (key !== undefined && (c === 0x2d || (c >= 0x30 && c <= 0x39))) {
        const end = numberEnd(text, i);
        numbers.set(key, text.slice(i, end));
        i = end - 1;
      }
    } else if (depth === 2 && items) {
      if (c === 0x2c) index++;
    } else if (depth === 3 && inItem) {
      if (c === 0x2c) {
        itemExpectKey = true;
      } else if (itemKey !== undefined && (c === 0x2d || (c >= 0x30 && c <= 0x39))) {
        const end = numberEnd(text, i);
        (items![index] ??= new Map()).set(itemKey, text.slice(i, end));
        i = end - 1;
      }
    }
  }
  return { numbers, itemNumbers };
}

/** Replaces Fastify's application/json parser with the scan above followed by Fastify's own; no other parser. */
export function useJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  // Bodies are JSON only: Fastify's own text/plain parser would hand a route a string, refused by its schema
  // as 400 VALIDATION_FAILED instead of 415 UNSUPPORTED_MEDIA_TYPE like any other media type.
  app.removeContentTypeParser('text/plain');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    try {
      const scanned = scanJson(body as string);
      req.jsonNumbers = scanned.numbers;
      req.jsonItemNumbers = scanned.itemNumbers;
    } catch (err) {
      done(err as Error, undefined);
      return;
    }
    parse(req, body as string, done);
  });
}
