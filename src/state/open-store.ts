// Picks the store: PostgreSQL when a URL is given, else embedded PGlite in a folder. Drivers load lazily.
import { mkdirSync } from 'node:fs';
import type { Store } from './store.js';

export async function openStore(opts: { databaseUrl?: string; dataDir?: string }): Promise<Store> {
  if (opts.databaseUrl) {
    const { createPgStore } = await import('./pg-store.js');
    return createPgStore(opts.databaseUrl);
  }
  const dir = opts.dataDir ?? '.credits/db';
  mkdirSync(dir, { recursive: true });
  const { openPgliteStore } = await import('./pglite-store.js');
  return openPgliteStore(dir);
}
