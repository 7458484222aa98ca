// `credits serve`: the runtime API and the dashboard until SIGINT/SIGTERM.
import { buildServer } from '../../api/server.js';
import { openStore } from '../../state/open-store.js';
import { migrate } from '../../state/migrate.js';
import { analyzeEmbedded } from '../../state/pglite-upkeep.js';
import { KEY_RETENTION_MS, purgeIdempotencyKeys } from '../../ledger/idempotency.js';
import { describeStore, embeddedDataDir } from '../with-store.js';
import type { Streams } from '../output.js';
import { wholeNumberSetting } from '../../whole-number.js';
import { RATE_LIMIT_CLASSES, type RateLimits } from '../../api/rate-limits.js';
import {
  alertSenderOptions,
  missingSecretLine,
  missingSecrets,
  startAlertSender,
} from '../../api/alert-sender.js';

export interface ServeOptions {
  port: string;
  host: string;
  databaseUrl?: string;
  /** Requests per minute per token of each role, and per address without a token (--rate-limit-<class>). */
  rateLimitAdmin?: string;
  rateLimitService?: string;
  rateLimitMember?: string;
  rateLimitAnonymous?: string;
}

const MAX_RATE_LIMIT = 100_000_000;

/** A requests-per-minute setting: a whole number from 1 up; anything else is refused before serving. */
function perMinute(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  return wholeNumberSetting(name, text, MAX_RATE_LIMIT, 'requests per minute');
}

const FLAG_OF = {
  admin: 'rateLimitAdmin',
  service: 'rateLimitService',
  member: 'rateLimitMember',
  anonymous: 'rateLimitAnonymous',
} as const;

/** The flags' limits, and CREDITS_RATE_LIMIT for every class no flag sets. */
export function serveRateLimits(opts: ServeOptions, env = process.env) {
  const own: Partial<RateLimits> = {};
  for (const c of RATE_LIMIT_CLASSES) {
    const n = perMinute(`--rate-limit-${c}`, opts[FLAG_OF[c]]);
    if (n !== undefined) own[c] = n;
  }
  return { rateLimits: own, rateLimit: perMinute('CREDITS_RATE_LIMIT', env.CREDITS_RATE_LIMIT) };
}

const UPKEEP_FIRST_MS = 60_000;
const UPKEEP_EVERY_MS = 60 * 60_000;

export async function serveCommand(opts: ServeOptions, streams: Streams): Promise<number> {
  const limits = serveRateLimits(opts);
  const alertOptions = alertSenderOptions();
  // An embedded folder is served by one process: this one owns it, or refuses (DATABASE_IN_USE) when another
  // server does. CLI commands run meanwhile go through this process (see state/open-store.ts).
  const store = await openStore({
    databaseUrl: opts.databaseUrl,
    dataDir: embeddedDataDir(),
    role: 'serve',
    onWait: (owner) =>
      streams.stderr.write(`waiting for ${owner.command} (pid ${owner.pid}) to finish with the database\n`),
  });
  await migrate(store);
  await analyzeEmbedded(store); // see upkeep below
  const app = await buildServer({ store, logger: process.env.CREDITS_LOG !== 'off', ...limits });
  const address = await app.listen({ port: Number(opts.port), host: opts.host });
  streams.stderr.write(`credits serving ${describeStore(opts.databaseUrl)} on ${address}\n`);
  // Alerts at budget thresholds: the outbox is delivered from here (docs/alerts.md).
  for (const w of await missingSecrets(store)) {
    streams.stderr.write(`credits: ${missingSecretLine(w)}\n`);
    app.log.error({ secretEnv: w.secretEnv }, missingSecretLine(w));
  }
  const alerts = await startAlertSender(store, app.log, alertOptions);
  // Idempotency keys past their retention go every hour (replicas purging at once skip each other's rows).
  // PGlite has no autovacuum, so its statistics are refreshed here too, or plans would scan whole tables.
  const upkeep = async () => {
    const purged = await purgeIdempotencyKeys(store, new Date(Date.now() - KEY_RETENTION_MS));
    if (purged) app.log.info({ purged }, 'purged idempotency keys older than 24 h');
    await analyzeEmbedded(store);
  };
  let upkeepRun: Promise<void> = Promise.resolve();
  const startUpkeep = () => {
    upkeepRun = upkeep().catch((err: unknown) =>
      app.log.warn({ reason: (err as Error).message }, 'database upkeep failed'),
    );
  };
  const first = setTimeout(startUpkeep, UPKEEP_FIRST_MS).unref();
  const hourly = setInterval(startUpkeep, UPKEEP_EVERY_MS).unref();
  // Graceful shutdown: stop accepting, let in-flight requests finish, then close the pool.
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  clearTimeout(first);
  clearInterval(hourly);
  await alerts.stop();
  await app.close();
  await upkeepRun;
  await store.close();
  return 0;
}
