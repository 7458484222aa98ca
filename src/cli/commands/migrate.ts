// `credits migrate`: bring the database schema up to date.
import { openStore } from '../../state/open-store.js';
import { migrate } from '../../state/migrate.js';
import { describeStore, embeddedDataDir } from '../with-store.js';
import type { Streams } from '../output.js';

export async function migrateCommand(opts: { databaseUrl?: string }, streams: Streams): Promise<number> {
  const store = await openStore({ databaseUrl: opts.databaseUrl, dataDir: embeddedDataDir() });
  try {
    const result = await migrate(store);
    const where = describeStore(opts.databaseUrl);
    streams.stdout.write(
      result.applied.length
        ? `migrated ${where} from version ${result.from} to ${result.to}: ${result.applied.join(', ')}\n`
        : `${where} is up to date (version ${result.to})\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}
