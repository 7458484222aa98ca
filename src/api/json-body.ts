// The API's JSON body parser. Before JSON.parse (Fastify's own, with prototype-poisoning checks) one linear
// scan of the raw text refuses bodies nested too deep and keeps the source text of every number that is a
// direct property of the body: Node 20's JSON.parse shows a reviver no source text, and amounts must be
// judged by what the client wrote (src/api/amounts.ts), not by the float it parses to.
import type { FastifyInstance } from 'fastify';
import { CreditsError } from '../errors.js';

/** Deepest nesting of objects and arrays a body may have; the body itself is level 1. */
export const MAX_BODY_DEPTH = 32;

declare module 'fastify' {
  interface FastifyRequest {
    /** Source text of each number-valued top-level property of a JSON object body. */
    jsonNumbers?: Map<string, string>;
  }
}

const NUMBER_CHAR = /[0-9eE+\-.]/;

/**
 * Depth check and top-level number texts, in one pass. Only strings need care (brackets inside them do not
 * count); whether the text is JSON at all is JSON.parse's to say afterwards.
 */
export function scanJson(text: string, maxDepth = MAX_BODY_DEPTH): Map<string, string> {
  const numbers = new Map<string, string>();
  let depth = 0;
  let topIsObject = false;
  let expectKey = false;
  let key: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (depth === 1 && topIsObject && expectKey) {
        try {
          key = JSON.parse(text.slice(start, i + 1)) as string;
        } catch {
          key = undefined; // not JSON: JSON.parse refuses the whole body next
        }
        expectKey = false;
      }
    } else if (c === '{' || c === '[') {
      depth++;
      if (depth > maxDepth) throw new CreditsError('BODY_TOO_DEEP', { limit: maxDepth });
      if (depth === 1) {
        topIsObject = c === '{';
        expectKey = topIsObject;
      }
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',' && depth === 1) {
      expectKey = topIsObject;
    } else if (depth === 1 && topIsObject && key !== undefined && (c === '-' || (c >= '0' && c <= '9'))) {
      let end = i + 1;
      while (end < text.length && NUMBER_CHAR.test(text[end]!)) end++;
      numbers.set(key, text.slice(i, end));
      i = end - 1;
    }
  }
  return numbers;
}

/** Replaces Fastify's application/json parser with the scan above followed by Fastify's own parser. */
export function useJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    try {
      req.jsonNumbers = scanJson(body as string);
    } catch (err) {
      done(err as Error, undefined);
      return;
    }
    parse(req, body as string, done);
  });
}
