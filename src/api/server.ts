// The Fastify server behind `credits serve`: coded errors from the one catalogue, health and readiness.
// Runtime routes (/v1) are registered here as they are built (DESIGN §6).
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { CreditsError, isCreditsError } from '../errors.js';
import { schemaStatus } from '../state/migrate.js';
import type { TokenIdentity } from '../state/tokens.js';
import { cachedAuthentication } from './token-cache.js';
import { ROUTES } from './routes.js';
import { errorResponse } from './response-schemas.js';
import { requestHash } from '../ledger/idempotency.js';
import { isRetryable } from '../ledger/retry.js';
import type { Store } from '../state/store.js';
import { registerDashboard } from '../web/dashboard.js';

export interface ServerOptions {
  store: Store;
  logger?: boolean;
  /** Requests per minute per token (and per address for unauthenticated calls). */
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

const errorBody = (err: CreditsError) => ({
  error: { code: err.code, message: err.message, ...err.details },
});

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ? { redact: ['req.headers.authorization', 'req.headers["idempotency-key"]'] } : false,
    bodyLimit: 64 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });
  const now = opts.now ?? (() => new Date());

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
      if (err.status >= 500) req.log.error({ code: err.code }, err.message);
      return reply.status(err.status).send(errorBody(err));
    }
    const pgCode = (err as { code?: string }).code;
    // A deadlock victim or serialisation failure rolled back entirely: the client may retry (writers retry
    // these themselves first, src/ledger/retry.ts).
    if (isRetryable(err)) {
      return reply.status(503).send(errorBody(new CreditsError('TRANSACTION_CONFLICT', { attempts: 1 })));
    }
    // Bad values that got past the schema (e.g. a numeric overflow) are the client's, not a server fault.
    if (pgCode && /^22/.test(pgCode)) {
      return reply
        .status(400)
        .send(errorBody(new CreditsError('VALIDATION_FAILED', { reason: 'value out of range' })));
    }
    const e = err as { validation?: unknown; statusCode?: number; message: string };
    if (e.validation) {
      return reply.status(400).send(errorBody(new CreditsError('VALIDATION_FAILED', { reason: e.message })));
    }
    if (e.statusCode === 429) return reply.status(429).send(errorBody(new CreditsError('RATE_LIMITED')));
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      const code =
        e.statusCode === 413
          ? 'PAYLOAD_TOO_LARGE'
          : e.statusCode === 415
            ? 'UNSUPPORTED_MEDIA_TYPE'
            : 'BAD_REQUEST';
      return reply.status(e.statusCode).send({ error: { code, message: e.message } });
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

  const authenticate = cachedAuthentication(opts.store, opts.tokenCacheMs);
  const { default: rateLimit } = await import('@fastify/rate-limit');
  await app.register(rateLimit, {
    max: opts.rateLimit ?? 6000,
    timeWindow: '1 minute',
    // A token that authenticates has its own bucket; anything else counts against the client address, so
    // spraying made-up tokens does not buy a fresh bucket each.
    keyGenerator: async (req) => {
      const token = bearer(req);
      const identity = token ? await authenticate(token).catch(() => undefined) : undefined;
      if (identity && req.url.startsWith('/v1/')) req.identity = identity; // the auth hook takes it from here
      return identity ? `token:${identity.tokenId}` : `ip:${req.ip}`;
    },
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429,
      error: { code: 'RATE_LIMITED', message: `too many requests; retry in ${Math.ceil(ctx.ttl / 1000)} s` },
    }),
  });
  const { default: swagger } = await import('@fastify/swagger');
  const { default: swaggerUi } = await import('@fastify/swagger-ui');
  await app.register(swagger, {
    openapi: {
      info: { title: 'credits runtime API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // Bearer tokens: the tenant comes from the token, never from the request. Checked after the rate limit
  // (onRequest), so that failed attempts are limited too, and before the body is read.
  app.addHook('preParsing', async (req, _reply, payload) => {
    if (!req.url.startsWith('/v1/')) return payload; // health, readiness and /docs are public
    if (req.identity) return payload; // authenticated for the rate limit
    const token = bearer(req);
    const identity = token ? await authenticate(token) : undefined;
    if (!identity) throw new CreditsError('UNAUTHORIZED');
    req.identity = identity;
    return payload;
  });

  for (const route of ROUTES) {
    app.route({
      method: route.method,
      url: route.url,
      schema: {
        ...route.schema,
        tags: [route.url.split('/')[2]!],
        response: { [route.status ?? 200]: route.response, '4xx': errorResponse },
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
      },
      handler: async (req, reply) => {
        const identity = req.identity!;
        const header = req.headers['idempotency-key'];
        const clientKey = typeof header === 'string' && header.length > 0 ? header.slice(0, 200) : undefined;
        // Keys are the caller's own: a member's key cannot collide with (or reveal) another member's. Admin
        // and service tokens act for the whole account and share its namespace, so a retry with a rotated
        // token still replays.
        const key =
          clientKey && identity.role === 'member' ? `member:${identity.member}:${clientKey}` : clientKey;
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
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
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
  });
  return app;
}
