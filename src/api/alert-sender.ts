// Delivers the alert outbox from `credits serve`: claims due deliveries (each claimed by one server at a time),
// POSTs each signed event, and records the outcome: delivered on a 2xx, else tried again with exponential
// backoff and jitter until maxAttempts, then failed. At least once: a receiver that answered 2xx after the
// server died before recording it gets the event again, with the same id. A periodic sweep raises the alerts
// of sliced budgets that concurrent writers missed. The secret is read from the environment per attempt and
// never logged or stored; errors name the variable.
import type { FastifyBaseLogger } from 'fastify';
import { wholeNumberSetting } from '../whole-number.js';
import type { Store } from '../state/store.js';
import {
  claimDueDeliveries,
  recordDelivered,
  recordFailure,
  recordInterrupted,
  sweepAlerts,
  webhookSecretEnvs,
  type DueDelivery,
} from '../ledger/alerts-outbox.js';
import { SIGNATURE_HEADER, signatureHeader } from './alert-signature.js';

export interface AlertSenderOptions {
  /** How often the outbox is polled for due deliveries. */
  pollMs: number;
  /** The first retry's delay; each further retry doubles it (capped at maxBackoffMs), ±50 % jitter. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Attempts before a delivery is given up (status failed). */
  maxAttempts: number;
  /** Per request. */
  timeoutMs: number;
  /** How often the sweep runs. */
  sweepMs: number;
  /** Deliveries claimed per poll. */
  batch: number;
}

export const ALERT_SENDER_DEFAULTS: AlertSenderOptions = {
  pollMs: 1000,
  backoffMs: 5000,
  maxBackoffMs: 3_600_000,
  maxAttempts: 12,
  timeoutMs: 10_000,
  sweepMs: 60_000,
  batch: 20,
};

const ENV_OF: Record<Exclude<keyof AlertSenderOptions, 'maxBackoffMs' | 'batch'>, string> = {
  pollMs: 'CREDITS_ALERT_POLL_MS',
  backoffMs: 'CREDITS_ALERT_BACKOFF_MS',
  maxAttempts: 'CREDITS_ALERT_MAX_ATTEMPTS',
  timeoutMs: 'CREDITS_ALERT_TIMEOUT_MS',
  sweepMs: 'CREDITS_ALERT_SWEEP_MS',
};

/** The defaults with what the environment sets; a value that is not a whole number from 1 is refused. */
export function alertSenderOptions(env: NodeJS.ProcessEnv = process.env): AlertSenderOptions {
  const out = { ...ALERT_SENDER_DEFAULTS };
  for (const [key, name] of Object.entries(ENV_OF) as [keyof typeof ENV_OF, string][]) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    out[key] = wholeNumberSetting(name, text);
  }
  return out;
}

/** A url as logs and errors show it: without its query and fragment, which may carry a token. */
export const shownUrl = (url: string): string => {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}${u.search || u.hash ? '?…' : ''}`;
  } catch {
    return '(invalid url)';
  }
};

/** The delay before attempt `attempt + 1`: backoff · 2^(attempt−1), capped, times a jitter in [0.5, 1.5). */
export function retryDelay(attempt: number, o: AlertSenderOptions, random = Math.random): number {
  const base = Math.min(o.maxBackoffMs, o.backoffMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(base * (0.5 + random()));
}

type Outcome =
  { ok: true; status: number } | { ok: false; status: number | null; error: string; interrupted?: boolean };

async function send(
  d: DueDelivery,
  o: AlertSenderOptions,
  env: NodeJS.ProcessEnv,
  stopping: AbortSignal,
): Promise<Outcome> {
  const secret = env[d.secretEnv];
  if (!secret) {
    return {
      ok: false,
      status: null,
      error: `environment variable ${d.secretEnv} is empty or not set in credits serve`,
    };
  }
  const body = JSON.stringify(d.event);
  try {
    const res = await fetch(d.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'credits-alerts/1',
        'Credits-Event-Id': d.event.id,
        [SIGNATURE_HEADER]: signatureHeader(secret, body, Math.floor(Date.now() / 1000)),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.any([AbortSignal.timeout(o.timeoutMs), stopping]),
    });
    await res.body?.cancel().catch(() => {});
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    return { ok: false, status: res.status, error: `HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const reason = stopping.aborted
      ? 'credits serve stopped during the request'
      : e.name === 'TimeoutError'
        ? `no answer within ${o.timeoutMs} ms`
        : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { ok: false, status: null, error: `request failed: ${reason}`, interrupted: stopping.aborted };
  }
}

export interface AlertSender {
  stop(): Promise<void>;
}

/** The webhooks whose signing variable is empty or not set in `env`: their deliveries fail until it is set. */
export async function missingSecrets(
  store: Store,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ secretEnv: string; url: string }[]> {
  return (await webhookSecretEnvs(store)).filter((w) => !env[w.secretEnv]);
}

/** One line naming the variable (never a value) for a webhook that cannot be signed. */
export const missingSecretLine = (w: { secretEnv: string; url: string }): string =>
  `alert webhook ${shownUrl(w.url)}: environment variable ${w.secretEnv} is empty or not set; its deliveries fail until it holds the secret`;

export async function startAlertSender(
  store: Store,
  log: FastifyBaseLogger,
  o: AlertSenderOptions = ALERT_SENDER_DEFAULTS,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AlertSender> {
  let stopped = false;
  // Stopping aborts requests in flight (recorded as not attempted, due again at once), so shutdown never
  // waits for a slow receiver and a restart never uses up a delivery's attempts.
  const stopping = new AbortController();
  let running: Promise<void> = Promise.resolve();
  let lastSweep = 0; // the first round sweeps: thresholds may have been reached while no server ran

  const deliver = async (d: DueDelivery): Promise<void> => {
    const outcome = await send(d, o, env, stopping.signal);
    const where = { eventId: d.event.id, url: shownUrl(d.url), attempt: d.attempt };
    if (outcome.ok) {
      await recordDelivered(store, d, outcome.status);
      log.info({ ...where, status: outcome.status }, 'alert delivered');
      return;
    }
    if (outcome.interrupted) {
      // Our own shutdown cut it short: the receiver is not to blame, so the attempt does not count.
      await recordInterrupted(store, d, outcome.error);
      log.info(
        { ...where, error: outcome.error },
        'alert delivery interrupted by shutdown: due again at start',
      );
      return;
    }
    const giveUp = d.attempt >= o.maxAttempts;
    const retryInMs = giveUp ? null : retryDelay(d.attempt, o);
    await recordFailure(store, d, { status: outcome.status, error: outcome.error, retryInMs });
    log.warn(
      { ...where, status: outcome.status, error: outcome.error, retryInMs },
      giveUp ? `alert delivery failed ${d.attempt} times: given up` : 'alert delivery failed: will retry',
    );
  };

  // Requests are not awaited round by round: a receiver that hangs until the timeout would hold up every
  // other webhook's deliveries. Up to `batch` are open at once, at most a quarter of them to one url.
  const open = new Map<Promise<void>, string>();
  const perUrl = Math.max(1, Math.floor(o.batch / 4));
  const start = (d: DueDelivery): void => {
    const p: Promise<void> = deliver(d)
      .catch((err: unknown) => log.warn({ reason: (err as Error).message }, 'alert delivery round failed'))
      .finally(() => open.delete(p));
    open.set(p, d.url);
  };

  const tick = async (): Promise<void> => {
    if (Date.now() - lastSweep >= o.sweepMs) {
      lastSweep = Date.now();
      // Cycles that ended since the previous sweep too: a crossing missed just before the boundary.
      const raised = await sweepAlerts(store, 2 * o.sweepMs);
      if (raised) log.info({ raised }, 'alert sweep raised alerts no counter change raised');
    }
    const room = o.batch - open.size;
    if (room <= 0) return;
    const count = new Map<string, number>();
    for (const url of open.values()) count.set(url, (count.get(url) ?? 0) + 1);
    const busy = [...count].filter(([, n]) => n >= perUrl).map(([url]) => url);
    // The lease outlasts the request timeout, so no other server takes a row while this one sends it.
    const due = await claimDueDeliveries(store, room, o.timeoutMs * 2 + 5000, busy);
    // A claim may bring more rows of one url than its share: they are sent all the same (the lease holds them).
    due.forEach(start);
  };

  const loop = (): void => {
    if (stopped) return;
    running = tick()
      .catch((err: unknown) => log.warn({ reason: (err as Error).message }, 'alert delivery round failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, o.pollMs);
      });
  };
  let timer = setTimeout(loop, 0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      stopping.abort();
      await running;
      await Promise.all(open.keys());
    },
  };
}
