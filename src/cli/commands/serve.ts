// `credits serve`: the runtime API (and, with its issue, the dashboard) until SIGINT/SIGTERM.
import { buildServer } from '../../api/server.js';
import { openStore } from '../../state/open-store.js';
import { migrate } from '../../state/migrate.js';
import { describeStore, embeddedDataDir } from '../with-store.js';
import type { Streams } from '../output.js';

export interface ServeOptions {
  port: string;
  host: string;
  databaseUrl?: string;
}

export async function serveCommand(opts: ServeOptions, streams: Streams): Promise<number> {
  const store = await openStore({ databaseUrl: opts.databaseUrl, dataDir: embeddedDataDir() });
  await migrate(store);
  const rateLimit = Number(process.env.CREDITS_RATE_LIMIT) || undefined;
  const app = await buildServer({ store, logger: process.env.CREDITS_LOG !== 'off', rateLimit });
  const address = await app.listen({ port: Number(opts.port), host: opts.host });
  streams.stderr.write(`credits serving ${describeStore(opts.databaseUrl)} on ${address}\n`);
  // Graceful shutdown: stop accepting, let in-flight requests finish, then close the pool.
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await app.close();
  await store.close();
  return 0;
}
