// The Fastify server behind `credits serve`: coded errors from the one catalogue, health and readiness.
// Runtime routes (/v1) are registered here as they are built (DESIGN §6).
import Fastify, { type FastifyInstance } from 'fastify';
import { CreditsError, isCreditsError } from '../errors.js';
import { schemaStatus } from '../state/migrate.js';
import type { Store } from '../state/store.js';

export interface ServerOptions {
  store: Store;
  logger?: boolean;
}

const errorBody = (err: CreditsError) => ({
  error: { code: err.code, message: err.message, ...err.details },
});

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ? { redact: ['req.headers.authorization'] } : false,
    bodyLimit: 64 * 1024,
  });

  // Every error leaves as {error:{code,message}}; nothing a client sends produces a stack trace.
  app.setErrorHandler((err, req, reply) => {
    if (isCreditsError(err)) return reply.status(err.status).send(errorBody(err));
    const e = err as { validation?: unknown; statusCode?: number; message: string };
    if (e.validation) {
      return reply.status(400).send(errorBody(new CreditsError('VALIDATION_FAILED', { reason: e.message })));
    }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return reply.status(e.statusCode).send({ error: { code: 'BAD_REQUEST', message: e.message } });
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
