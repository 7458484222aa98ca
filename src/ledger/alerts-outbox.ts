// The alert outbox (migration 016): claiming due deliveries for `credits serve`, recording their outcome,
// the periodic sweep, and the recent alerts with their deliveries for `credits alerts` and GET /v1/alerts.
import type { Queryable } from '../state/store.js';
import { canonical } from '../decimal.js';

/** What a webhook is sent: built from the event row alone, so every retry sends the very same bytes. */
export interface AlertEvent {
  id: string;
  type: 'budget.threshold';
  account: string;
  scope: 'member' | 'group' | 'account';
  member: string | null;
  group: string | null;
  /** Percent of the budget. */
  threshold: number;
  /** Used (usage and live holds) and budget (capacity) of the scope when the alert was raised, exact. */
  used: string;
  budget: string;
  cycle: { start: string; end: string };
  createdAt: string;
}

export interface DueDelivery {
  accountId: string;
  deliveryId: string;
  url: string;
  secretEnv: string;
  /** This attempt's number, from 1. */
  attempt: number;
  event: AlertEvent;
}

interface EventRow {
  account_id: string;
  event_id: string;
  scope: string;
  threshold: string;
  used: string;
  budget: string;
  group_key: string | null;
  cycle_starts_at: Date;
  cycle_ends_at: Date;
  created_at: Date;
}

const iso = (d: Date | string): string => new Date(d).toISOString();

export function eventOf(r: EventRow): AlertEvent {
  const [kind, name] = r.scope.split(/:(.*)/s) as [string, string | undefined];
  const scope = kind === 'member' || kind === 'group' ? kind : 'account';
  return {
    id: r.event_id,
    type: 'budget.threshold',
    account: r.account_id,
    scope,
    member: scope === 'member' ? (name ?? null) : null,
    group: r.group_key,
    threshold: Number(canonical(r.threshold)),
    used: canonical(r.used),
    budget: canonical(r.budget),
    cycle: { start: iso(r.cycle_starts_at), end: iso(r.cycle_ends_at) },
    createdAt: iso(r.created_at),
  };
}

const EVENT_COLUMNS = `e.account_id, e.event_id::text AS event_id, e.scope, e.threshold::text AS threshold,
  e.used::text AS used, e.budget::text AS budget, e.group_key, e.cycle_starts_at, e.cycle_ends_at, e.created_at`;

/**
 * Claims up to `limit` due deliveries: skips rows another server holds (SKIP LOCKED), counts the attempt and
 * moves next_attempt_at `leaseMs` ahead, so no other server takes them while this one sends (the lease is
 * longer than the request timeout). Committed at once: no transaction stays open during a request. Rows to
 * the `busyUrls` (webhooks the caller already has enough requests open to) are left for later.
 */
export async function claimDueDeliveries(
  db: Queryable,
  limit: number,
  leaseMs: number,
  busyUrls: string[] = [],
): Promise<DueDelivery[]> {
  const { rows } = await db.query<
    EventRow & { delivery_id: string; url: string; secret_env: string; attempts: number }
  >(
    `WITH due AS (
       SELECT account_id, delivery_id FROM alert_deliveries
        WHERE status = 'pending' AND next_attempt_at <= now() AND url <> ALL ($3::text[])
        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     UPDATE alert_deliveries d
        SET attempts = d.attempts + 1, last_attempt_at = now(),
            next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
       FROM due, alert_events e
      WHERE d.account_id = due.account_id AND d.delivery_id = due.delivery_id
        AND e.account_id = d.account_id AND e.event_id = d.event_id
     RETURNING d.delivery_id::text AS delivery_id, d.url, d.secret_env, d.attempts, ${EVENT_COLUMNS}`,
    [limit, leaseMs, busyUrls],
  );
  return rows.map((r) => ({
    accountId: r.account_id,
    deliveryId: r.delivery_id,
    url: r.url,
    secretEnv: r.secret_env,
    attempt: Number(r.attempts),
    event: eventOf(r),
  }));
}

export async function recordDelivered(db: Queryable, d: DueDelivery, status: number): Promise<void> {
  await db.query(
    `UPDATE alert_deliveries SET status = 'delivered', delivered_at = now(), last_status = $3, last_error = NULL
      WHERE account_id = $1 AND delivery_id = $2`,
    [d.accountId, d.deliveryId, status],
  );
}

/** A failed attempt: tried again after `retryInMs`, or given up (status failed) when that is null. */
export async function recordFailure(
  db: Queryable,
  d: DueDelivery,
  failure: { status: number | null; error: string; retryInMs: number | null },
): Promise<void> {
  await db.query(
    `UPDATE alert_deliveries
        SET last_status = $3, last_error = $4,
            status = CASE WHEN $5::double precision IS NULL THEN 'failed' ELSE 'pending' END,
            next_attempt_at = CASE WHEN $5::double precision IS NULL THEN next_attempt_at
                                   ELSE now() + make_interval(secs => $5::double precision / 1000) END
      WHERE account_id = $1 AND delivery_id = $2`,
    [d.accountId, d.deliveryId, failure.status, failure.error.slice(0, 500), failure.retryInMs],
  );
}

/**
 * An attempt cut short by this server's own shutdown: not counted, and due again at once (for another server,
 * or this one when it starts again), so a restart never uses up, or gives up, a delivery.
 */
export async function recordInterrupted(db: Queryable, d: DueDelivery, error: string): Promise<void> {
  await db.query(
    `UPDATE alert_deliveries
        SET attempts = greatest(attempts - 1, 0), last_status = NULL, last_error = $3, next_attempt_at = now()
      WHERE account_id = $1 AND delivery_id = $2 AND status = 'pending'`,
    [d.accountId, d.deliveryId, error],
  );
}

/**
 * Raises the alerts no counter change raised (migration 022): crossings of sliced scopes that concurrent
 * writers missed, and thresholds declared while a scope was already past them; over each account's latest
 * cycle and the cycles that ended within `endedWithinMs`.
 */
export async function sweepAlerts(db: Queryable, endedWithinMs = 120_000): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT credits_alerts_sweep(make_interval(secs => $1::double precision / 1000)) AS n',
    [endedWithinMs],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Every (variable, url) pair webhooks sign with, to name the variables missing from the environment. */
export async function webhookSecretEnvs(db: Queryable): Promise<{ secretEnv: string; url: string }[]> {
  const { rows } = await db.query<{ secret_env: string; url: string }>(
    'SELECT DISTINCT secret_env, url FROM alert_webhooks ORDER BY secret_env, url',
  );
  return rows.map((r) => ({ secretEnv: r.secret_env, url: r.url }));
}

export interface AlertDelivery {
  url: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
}

export interface AlertWithDeliveries extends AlertEvent {
  deliveries: AlertDelivery[];
}

/** The latest alerts of an account, newest first, each with its deliveries. */
export async function listAlerts(
  db: Queryable,
  accountId: string,
  limit: number,
): Promise<AlertWithDeliveries[]> {
  const { rows } = await db.query<EventRow & { deliveries: Record<string, unknown>[] | null }>(
    `SELECT ${EVENT_COLUMNS},
            (SELECT json_agg(json_build_object('url', d.url, 'status', d.status, 'attempts', d.attempts,
                      'lastStatus', d.last_status, 'lastError', d.last_error, 'lastAttemptAt', d.last_attempt_at,
                      'nextAttemptAt', CASE WHEN d.status = 'pending' THEN d.next_attempt_at END,
                      'deliveredAt', d.delivered_at) ORDER BY d.url COLLATE "C")
               FROM alert_deliveries d WHERE d.account_id = e.account_id AND d.event_id = e.event_id) AS deliveries
       FROM alert_events e WHERE e.account_id = $1
      ORDER BY e.created_at DESC, e.scope, e.threshold DESC LIMIT $2`,
    [accountId, limit],
  );
  const when = (v: unknown): string | null => (v ? iso(v as string) : null);
  return rows.map((r) => ({
    ...eventOf(r),
    deliveries: (r.deliveries ?? []).map((d) => ({
      url: String(d.url),
      status: d.status as AlertDelivery['status'],
      attempts: Number(d.attempts),
      lastStatus: d.lastStatus === null ? null : Number(d.lastStatus),
      lastError: (d.lastError as string | null) ?? null,
      lastAttemptAt: when(d.lastAttemptAt),
      nextAttemptAt: when(d.nextAttemptAt),
      deliveredAt: when(d.deliveredAt),
    })),
  }));
}
