// Opens the store the CLI was pointed at (DATABASE_URL, else embedded PGlite), migrated, and always closes it.
import { openStore } from '../state/open-store.js';
import { migrate } from '../state/migrate.js';
import type { Store } from '../state/store.js';

export const embeddedDataDir = (): string => process.env.CREDITS_DATA_DIR ?? '.credits/db';

/** Where the store lives, for messages: never the URL itself, which may hold a password. */
export function describeStore(databaseUrl: string | undefined): string {
  if (!databaseUrl) return `embedded PGlite in ${embeddedDataDir()}`;
  try {
    const u = new URL(databaseUrl);
    return `PostgreSQL ${u.hostname}${u.port ? ':' + u.port : ''}${u.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}

export async function withStore<T>(
  opts: { databaseUrl?: string },
  fn: (store: Store, where: string) => Promise<T>,
): Promise<T> {
  const store = await openStore({ databaseUrl: opts.databaseUrl, dataDir: embeddedDataDir() });
  try {
    await migrate(store);
    return await fn(store, describeStore(opts.databaseUrl));
  } finally {
    await store.close();
  }
}
