// `credits serve`: the runtime API and the dashboard until SIGINT/SIGTERM.
import { buildServer } from '../../api/server.js';
import { openStore } from '../../state/open-store.js';
import { migrate } from '../../state/migrate.js';
import { analyzeEmbedded } from '../../state/pglite-upkeep.js';
import { KEY_RETENTION_MS, purgeIdempotencyKeys } from '../../ledger/idempotency.js';
import { describeStore, embeddedDataDir } from '../with-store.js';
import type { Streams } from '../output.js';

export interface ServeOptions {
  port: string;
  host: string;
  databaseUrl?: string;
}

const UPKEEP_FIRST_MS = 60_000;
const UPKEEP_EVERY_MS = 60 * 60_000;

export async function serveCommand(opts: ServeOptions, streams: Streams): Promise<number> {
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
  const rateLimit = Number(process.env.CREDITS_RATE_LIMIT) || undefined;
  await analyzeEmbedded(store); // see upkeep below
  const app = await buildServer({ store, logger: process.env.CREDITS_LOG !== 'off', rateLimit });
  const address = await app.listen({ port: Number(opts.port), host: opts.host });
  streams.stderr.write(`credits serving ${describeStore(opts.databaseUrl)} on ${address}\n`);
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
  await app.close();
  await upkeepRun;
  await store.close();
  return 0;
}
