// Request ids: the caller's X-Request-Id when it is printable ASCII of at most 128 characters, a new UUID
// otherwise. Fastify binds it to every log line of the request (reqId); it is echoed on every answer and
// carried in every error body. Fastify's own requestIdHeader would take any header value unchecked, so the
// header is read here instead.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';

export const REQUEST_ID_HEADER = 'x-request-id';
export const MAX_REQUEST_ID = 128;
const PRINTABLE = /^[\x20-\x7e]+$/;

export const validRequestId = (value: unknown): value is string =>
  typeof value === 'string' && value.length <= MAX_REQUEST_ID && PRINTABLE.test(value);

export const requestIdOptions = {
  requestIdHeader: false,
  genReqId: (req) => {
    const given = req.headers[REQUEST_ID_HEADER];
    return validRequestId(given) ? given : randomUUID();
  },
} satisfies Pick<FastifyServerOptions, 'requestIdHeader' | 'genReqId'>;

/**
 * Every answer says which request it answers (the header is set first thing, so answers refused before
 * routing carry it too), and every error body carries it as `requestId`: added as the body is serialised,
 * after the error's details, so no detail can stand in for it, and next to `code` and `message`, never over.
 */
export function useRequestIds(app: FastifyInstance): void {
  app.addHook('onRequest', (req, reply, done) => {
    reply.header(REQUEST_ID_HEADER, req.id);
    done();
  });
  app.addHook('preSerialization', (req, reply, payload, done) => {
    const error = reply.statusCode >= 400 ? (payload as { error?: unknown } | null)?.error : undefined;
    if (error && typeof error === 'object') (error as Record<string, unknown>).requestId = req.id;
    done(null, payload);
  });
}
