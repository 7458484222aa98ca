// Prometheus metrics at GET /metrics (prom-client), one registry per server. Request durations are labelled
// by route pattern, method and status, so the label sets are bounded by the route table; each route keeps
// its own label children, so a request costs two map lookups and prom-client's own observe.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { Counter, Gauge, Histogram, Registry, type LabelValues } from 'prom-client';
import { CreditsError } from '../errors.js';
import { observeLedger, type LedgerObserver } from '../ledger/observe.js';
import { MAX_BATCH } from '../ledger/usage-batches.js';
import type { Store } from '../state/store.js';

export const METRICS_PATH = '/metrics';

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (how a dual-stack socket reports 127.0.0.1). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4 === '::1' || /^127(\.\d{1,3}){3}$/.test(v4);
}

const FORWARDED = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;

/**
 * Metrics are for whoever runs the process: a client on this machine, not one relayed by a proxy on it (a
 * reverse proxy on the same host connects from loopback for everyone). The socket address is used, never a
 * forwarded one, whatever trustProxy says.
 */
export const metricsAllowed = (
  remoteAddress: string | undefined,
  headers: FastifyRequest['headers'],
): boolean => isLoopback(remoteAddress) && FORWARDED.every((h) => headers[h] === undefined);

type Labels = LabelValues<'method' | 'route' | 'status_code'>;
type Child = ReturnType<Histogram<'method' | 'route' | 'status_code'>['labels']>;

/** The route label of requests that matched no route (404s): never the raw URL. */
const UNMATCHED = 'unmatched';
const MARK = Symbol('credits.metrics');

export function createMetrics(store: Store) {
  const registry = new Registry();
  const requestDuration = new Histogram({
    name: 'credits_http_request_duration_seconds',
    help: 'Time from receiving a request to sending its answer, by route pattern, method and status.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const usageAccepted = new Counter({
    name: 'credits_usage_events_accepted_total',
    help: 'Usage events written to the ledger (replays not counted).',
    registers: [registry],
  });
  const usageRefused = new Counter({
    name: 'credits_usage_events_refused_total',
    help: 'Usage events refused with BUDGET_EXCEEDED, by the budget level that blocked them.',
    labelNames: ['blocked_by'] as const,
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'credits_usage_batch_size',
    help: 'Usage events per batch sent to the database in one round trip.',
    buckets: [1, 2, 4, 8, 16, MAX_BATCH],
    registers: [registry],
  });
  const cyclesOpened = new Counter({
    name: 'credits_cycles_opened_total',
    help: 'Budget cycles this process opened (committed), by reason: rollover, reset, cadence-change, created.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const replays = new Counter({
    name: 'credits_idempotency_replays_total',
    help: 'Requests answered with the stored answer of an earlier request with the same Idempotency-Key.',
    registers: [registry],
  });
  for (const level of ['member', 'group', 'account']) usageRefused.labels(level).inc(0);
  replays.inc(0);

  const stats = store.stats?.bind(store);
  if (stats) {
    // Read when scraped, never on the request path.
    new Gauge({
      name: 'credits_db_pool_connections',
      help: 'Database pool connections by state: in_use (checked out) or idle.',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        const s = stats();
        this.labels('in_use').set(s.total - s.idle);
        this.labels('idle').set(s.idle);
      },
    });
    new Gauge({
      name: 'credits_db_pool_waiting',
      help: 'Callers waiting for a database connection because every pooled one is in use.',
      registers: [registry],
      collect() {
        this.set(stats().waiting);
      },
    });
  }

  const ledger: LedgerObserver = {
    usage: (outcome) => (outcome === 'accepted' ? usageAccepted.inc() : usageRefused.labels(outcome).inc()),
    usageBatch: (size) => batchSize.observe(size),
    cycleOpened: (reason) => cyclesOpened.labels(reason).inc(),
    idempotencyReplay: () => replays.inc(),
  };

  /** The onResponse hook of one route: its children by method and status, made on first use. */
  const timer = (route: string) => {
    const byMethod = new Map<string, Map<number, Child>>();
    const hook = (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
      let byStatus = byMethod.get(req.method);
      if (!byStatus) byMethod.set(req.method, (byStatus = new Map()));
      let child = byStatus.get(reply.statusCode);
      if (!child) {
        const labels: Labels = { method: req.method, route, status_code: String(reply.statusCode) };
        byStatus.set(reply.statusCode, (child = requestDuration.labels(labels)));
      }
      child.observe(reply.elapsedTime / 1000);
      done();
    };
    return Object.assign(hook, { [MARK]: true });
  };

  return { registry, ledger, timer };
}

const hookList = (hooks: RouteOptions['onResponse']) => (hooks === undefined ? [] : [hooks].flat());

/** Times every request, listens to the ledger on `store`, and serves GET /metrics to loopback clients. */
export function registerMetrics(app: FastifyInstance, store: Store): void {
  const metrics = createMetrics(store);
  const stopObserving = observeLedger(store, metrics.ledger);
  app.addHook('onClose', async () => stopObserving());

  // Each route gets its own timer, labelled with its pattern; a HEAD route copied from its GET route
  // replaces the copied timer with its own.
  app.addHook('onRoute', (route) => {
    const others = hookList(route.onResponse).filter((h) => !(MARK in h));
    route.onResponse = [...others, metrics.timer(route.url ?? route.path ?? UNMATCHED)];
  });
  const unmatched = metrics.timer(UNMATCHED);
  app.addHook('onResponse', (req, reply, done) => (req.is404 ? unmatched(req, reply, done) : done()));

  app.get(METRICS_PATH, async (req, reply) => {
    if (!metricsAllowed(req.socket.remoteAddress, req.headers)) throw new CreditsError('METRICS_FORBIDDEN');
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
