// `credits init`: a commented starter credits.yaml, and the database with its schema.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CreditsError } from '../../errors.js';
import { starterConfig } from '../starter-config.js';
import { schemaPathFor } from '../schema-path.js';
import { withStore } from '../with-store.js';
import type { Streams } from '../output.js';

export interface InitOptions {
  file: string;
  account: string;
  force?: boolean;
  database?: boolean;
  databaseUrl?: string;
}

export async function initCommand(opts: InitOptions, streams: Streams): Promise<number> {
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(opts.account)) {
    throw new CreditsError('BAD_SLUG', { what: 'account id', value: opts.account });
  }
  if (existsSync(opts.file) && !opts.force) throw new CreditsError('FILE_EXISTS', { file: opts.file });
  mkdirSync(dirname(opts.file), { recursive: true });
  writeFileSync(opts.file, starterConfig(opts.account, undefined, schemaPathFor(opts.file)));
  streams.stdout.write(`wrote ${opts.file}\n`);
  if (opts.database !== false) {
    await withStore(opts, async (_store, where) => {
      streams.stdout.write(`database ready: ${where}\n`);
    });
  }
  streams.stdout.write('next: edit the file, then run `credits plan` and `credits apply`\n');
  return 0;
}
