// The Fastify server behind `credits serve`: coded errors from the one catalogue, health and readiness.
// The /v1 routes come from the route table (routes.ts), each registered with its schema and roles.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { CreditsError, isCreditsError } from '../errors.js';
import { schemaStatus } from '../state/migrate.js';
import type { TokenIdentity } from '../state/tokens.js';
import { cachedAuthentication } from './token-cache.js';
import { amountFields, ROUTES } from './routes.js';
import { parseAmount } from './amounts.js';
import { useJsonBodyParser } from './json-body.js';
import { authenticationGate } from './auth-gate.js';
import { COMMON_ERRORS, ERROR_RESPONSES, OTHER_ERRORS, type ErrorStatus } from './response-schemas.js';
import { rateLimits, type RateLimits } from './rate-limits.js';
import { openApiDocument, PUBLIC } from './openapi.js';
import { keyFromHeader, MAX_IDEMPOTENCY_KEY, scopedKey } from './idempotency-key.js';
import { requestHash } from '../ledger/idempotency.js';
import { isRetryable } from '../ledger/retry.js';
import { valueError } from '../ledger/value-error.js';
import type { Store } from '../state/store.js';
import { registerDashboard } from '../web/dashboard.js';
import { registerMetrics } from './metrics.js';
import { useRequestIds, requestIdOptions } from './request-id.js';

export interface ServerOptions {
  store: Store;
  logger?: boolean;
  /** Requests per minute per token, by the token's role, and per address without one (src/api/rate-limits.ts). */
  rateLimits?: Partial<RateLimits>;
  /** Requests per minute for every class not set in rateLimits. */
  rateLimit?: number;
  /** How long an authenticated token is remembered (ms); a revoked token works this long at most. 0: never. */
  tokenCacheMs?: number;
  /** The clock, for tests of cycles over HTTP. */
  now?: () => Date;
}

declare module 'fastify' {
  interface FastifyRequest {
    identity?: TokenIdentity;
  }
}

const bearer = (req: FastifyRequest): string | undefined => {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m?.[1];
};

// Details come first: no detail can overwrite the code or the message (the request id is added to every
// error body as it is sent, src/api/request-id.ts).
const errorBody = (err: CreditsError) => ({
  error: { ...err.details, code: err.code, message: err.message },
});

/** What a client may see of a server-side failure: the code and the catalogue's words, no driver text. */
const publicError = (err: CreditsError): CreditsError =>
  err.code === 'DATABASE_UNAVAILABLE'
    ? new CreditsError('DATABASE_UNAVAILABLE', { reason: 'the database did not answer' })
    : err.code === 'MIGRATIONS_PENDING'
      ? err
      : new CreditsError('INTERNAL');

const BODY_LIMIT = 64 * 1024;

// Bodies are validated without type coercion (`"5"` is not 5, `[5]` is not 5); the query string and path
// parameters are text by nature and are coerced to the integers their schemas ask for.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const validators = (coerceTypes: boolean) =>
  addFormats(
    new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, strict: false }),
  );

/** The rate-limit bucket of a request: its authenticated token, else the client address. */
const bucketOf = (req: FastifyRequest): string =>
  req.identity ? `token:${req.identity.tokenId}` : `ip:${req.ip}`;

/** The Idempotency-Key header, documented on every POST (the length is checked in preValidation). */
const IDEMPOTENCY_HEADER = {
  type: 'object',
  properties: {
    'Idempotency-Key': {
      type: 'string',
      minLength: 1,
      maxLength: MAX_IDEMPOTENCY_KEY,
      description: 'Makes a retry safe: the same key and body answer the first response again (docs/api.md)',
    },
  },
} as const;

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ? { redact: ['req.headers.authorization', 'req.headers["idempotency-key"]'] } : false,
    bodyLimit: BODY_LIMIT,
    ...requestIdOptions,
  });
  useRequestIds(app);
  registerMetrics(app, opts.store);
  const now = opts.now ?? (() => new Date());
  const bodyAjv = validators(false);
  const urlAjv = validators(true);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : urlAjv).compile(schema as object),
  );
  useJsonBodyParser(app);

  // Graceful shutdown: close() stops accepting and drops idle keep-alive connections; a request in flight
  // finishes, and its answer says `Connection: close`, or a client holding the keep-alive socket open would
  // keep the process from ever exiting.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  // Every error leaves as {error:{code,message}}; nothing a client sends produces a stack trace.
  app.setErrorHandler((err, req, reply) => {
    if (isCreditsError(err)) {
      if (err.status < 500) return reply.status(err.status).send(errorBody(err));
      req.log.error({ code: err.code }, err.message);
      const shown = publicError(err);
      return reply.status(shown.status).send(errorBody(shown));
    }
    // A deadlock victim or serialisation failure rolled back entirely: the client may retry (writers retry
    // these themselves first, src/ledger/retry.ts).
    if (isRetryable(err)) {
      return reply.status(503).send(errorBody(new CreditsError('TRANSACTION_CONFLICT', { attempts: 1 })));
    }
    // Bad values that got past the schema (e.g. a numeric overflow, U+0000 in text) are the client's.
    const refused = valueError(err);
    if (refused) return reply.status(400).send(errorBody(refused));
    const e = err as { validation?: unknown; statusCode?: number; code?: string; message: string };
    if (e.validation) {
      return reply.status(400).send(errorBody(new CreditsError('VALIDATION_FAILED', { reason: e.message })));
    }
    if (e.statusCode === 429) return reply.status(429).send(errorBody(new CreditsError('RATE_LIMITED')));
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      const coded =
        e.statusCode === 413
          ? new CreditsError('PAYLOAD_TOO_LARGE', { limit: req.routeOptions.bodyLimit ?? BODY_LIMIT })
          : e.statusCode === 415
            ? new CreditsError('UNSUPPORTED_MEDIA_TYPE')
            : e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
              ? new CreditsError('INVALID_JSON', { reason: e.message })
              : new CreditsError('BAD_REQUEST', { reason: e.message });
      return reply.status(coded.status).send(errorBody(coded));
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send(errorBody(new CreditsError('INTERNAL')));
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .status(404)
      .send(
        errorBody(new CreditsError('NOT_FOUND', { what: `route ${req.method} ${req.url.split('?')[0]}` })),
      ),
  );

  const limits = rateLimits(opts.rateLimits, opts.rateLimit);
  // Failed lookups are limited per address at the anonymous rate: a made-up token costs at most that many
  // database lookups a minute from one address, then is answered 429 without one.
  const authenticate = authenticationGate(
    cachedAuthentication(opts.store, opts.tokenCacheMs),
    limits.anonymous,
    60_000,
  );
  // Bearer tokens: the tenant comes from the token, never from the request. A /v1 request's token is looked
  // up first (remembered for a while, src/api/token-cache.ts; failures gated per address), so that the rate
  // limit can size its bucket by the token's role. A missing or unknown token is refused later, after the
  // address's bucket has counted it.
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/')) return; // health, readiness, /docs and the dashboard are public
    const token = bearer(req);
    if (!token) return;
    const answer = await authenticate(token, req.ip);
    if ('retryAfterS' in answer) {
      reply.header('retry-after', String(answer.retryAfterS));
      throw new CreditsError('RATE_LIMITED');
    }
    req.identity = answer.identity;
  });
  // The limit is a root onRequest hook, so it covers every request: routes, 404s (any path, any method,
  // OPTIONS included) and static files. A request with a token that authenticated counts against that
  // token, at its role's rate; anything else against the client address, at the anonymous rate.
  const { default: rateLimit } = await import('@fastify/rate-limit');
  await app.register(rateLimit, {
    global: false,
    max: (req) => limits[req.identity?.role ?? 'anonymous'],
    timeWindow: '1 minute',
    keyGenerator: bucketOf,
    errorResponseBuilder: () => ({ statusCode: 429 }),
  });
  app.addHook('onRequest', app.rateLimit());
  const { default: swagger } = await import('@fastify/swagger');
  const { default: swaggerUi } = await import('@fastify/swagger-ui');
  await app.register(swagger, openApiDocument(ROUTES));
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // Refused after the rate limit, so that failed attempts count too, and before the body is read.
  app.addHook('preParsing', async (req, _reply, payload) => {
    if (req.url.startsWith('/v1/') && !req.identity) throw new CreditsError('UNAUTHORIZED');
    return payload;
  });

  for (const route of ROUTES) {
    const amounts = amountFields(route);
    app.route({
      method: route.method,
      url: route.url,
      bodyLimit: route.bodyLimit ?? BODY_LIMIT,
      schema: {
        ...route.schema,
        operationId: route.operationId,
        summary: route.summary,
        tags: [route.tag ?? route.url.split('/')[2]!],
        ...(route.method === 'POST' ? { headers: IDEMPOTENCY_HEADER } : {}),
        response: responses(route.status ?? 200, route.response, route.errors),
      },
      // Roles before validation: a caller who may not use a route learns nothing about its schema.
      preValidation: async (req) => {
        const identity = req.identity!;
        if (!route.roles.includes(identity.role)) {
          throw new CreditsError('FORBIDDEN', {
            role: identity.role,
            action: `${route.method} ${route.url}`,
          });
        }
        if (identity.role === 'member' && route.memberSelf) {
          const p = req.params as Record<string, string>;
          const b = (req.body ?? {}) as Record<string, unknown>;
          const target = String(p.email ?? b.member ?? identity.member ?? '').toLowerCase();
          if (target !== identity.member) {
            throw new CreditsError('FORBIDDEN', { role: 'member', action: 'act for another member' });
          }
        }
        // The key is read as UTF-8 text and checked here; the header schema and the handler see that text.
        const header = req.headers['idempotency-key'];
        if (typeof header === 'string') req.headers['idempotency-key'] = keyFromHeader(header);
        // Amounts are checked on the text the client sent, then handed on as canonical strings.
        const body = req.body as Record<string, unknown> | null | undefined;
        if (body && typeof body === 'object' && !Array.isArray(body)) {
          for (const [field, nullable] of amounts) {
            if (!Object.hasOwn(body, field) || (nullable && body[field] === null)) continue;
            body[field] = parseAmount(field, body[field], req.jsonNumbers?.get(field));
          }
        }
      },
      handler: async (req, reply) => {
        const identity = req.identity!;
        const header = req.headers['idempotency-key'];
        const clientKey = typeof header === 'string' ? header : undefined; // checked in preValidation
        // Keys are the caller's own (src/api/idempotency-key.ts).
        const key = clientKey ? scopedKey(identity, clientKey) : undefined;
        // The other POSTs key their effect by route and by the whole request; the handler hands the key to
        // the ledger, which stores it in the effect's own transaction (src/ledger/idempotency.ts).
        const idempotency =
          key && !route.ledgerIdempotency && route.method === 'POST'
            ? {
                key: `http:${route.url}:${key}`,
                hash: requestHash({ params: req.params, body: req.body ?? null }),
              }
            : undefined;
        const context = {
          store: opts.store,
          identity,
          req,
          reply,
          idempotencyKey: key,
          idempotency,
          now: now(),
        };
        return reply.status(route.status ?? 200).send(await route.handler(context));
      },
    });
  }

  await registerDashboard(app);
  app.get(
    '/healthz',
    {
      schema: {
        ...PUBLIC,
        operationId: 'health',
        summary: 'Answers while the process runs',
        response: { 200: okBody, 429: ERROR_RESPONSES[429] },
      },
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        ...PUBLIC,
        operationId: 'ready',
        summary: 'Answers when the database is reachable and its migrations are current',
        response: { 200: readyBody, 429: ERROR_RESPONSES[429], 503: ERROR_RESPONSES[503] },
      },
    },
    async (_req, reply) => {
      try {
        const { current, expected } = await schemaStatus(opts.store);
        if (current !== expected) {
          return reply
            .status(503)
            .send(errorBody(new CreditsError('MIGRATIONS_PENDING', { current, expected })));
        }
        return { status: 'ready', schemaVersion: current };
      } catch {
        return reply
          .status(503)
          .send(errorBody(new CreditsError('DATABASE_UNAVAILABLE', { reason: 'query failed' })));
      }
    },
  );
  return app;
}

const okBody = {
  type: 'object',
  properties: { status: { type: 'string' } },
  required: ['status'],
} as const;
const readyBody = {
  type: 'object',
  properties: { status: { type: 'string' }, schemaVersion: { type: 'integer' } },
  required: ['status', 'schemaVersion'],
} as const;

/** A /v1 route's responses: its success, its error statuses (each with its own schema) and catch-alls. */
function responses(status: number, success: unknown, errors: readonly ErrorStatus[] = []) {
  const statuses = [...new Set([...COMMON_ERRORS, ...errors])].sort((a, b) => a - b);
  return {
    [status]: { ...(success as object), description: status === 201 ? 'Created' : 'OK' },
    ...Object.fromEntries(statuses.map((s) => [s, ERROR_RESPONSES[s]])),
    ...OTHER_ERRORS,
  };
}
