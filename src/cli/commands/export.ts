// `credits export`: the live declared state as a credits.yaml that plans to no changes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CreditsError } from '../../errors.js';
import { inspect, listAccounts } from '../../state/inspect.js';
import { renderYaml } from '../../render/yaml-export.js';
import type { Queryable } from '../../state/store.js';
import { withStore } from '../with-store.js';
import { schemaPathFor } from '../schema-path.js';
import type { Streams } from '../output.js';

export interface ExportOptions {
  account?: string;
  out?: string;
  databaseUrl?: string;
}

/**
 * The text `credits export` writes for `accountId` (or the only account) into `file`, whose folder its
 * `$schema` path starts from (as `credits init` writes it).
 */
export async function exportYaml(db: Queryable, accountId?: string, file = 'credits.yaml'): Promise<string> {
  if (!accountId) {
    const accounts = await listAccounts(db);
    if (accounts.length !== 1) {
      if (accounts.length === 0) throw new CreditsError('ACCOUNT_NOT_FOUND', { account: '(any)' });
      throw new CreditsError('ACCOUNT_AMBIGUOUS', { count: accounts.length });
    }
    accountId = accounts[0]!;
  }
  const live = await inspect(db, accountId);
  if (!live.state) throw new CreditsError('ACCOUNT_NOT_FOUND', { account: accountId });
  return renderYaml(
    live.state,
    `yaml-language-server: $schema=${schemaPathFor(file)}\nExported by \`credits export\` from state serial ${live.stateSerial}.`,
  );
}

export async function exportCommand(opts: ExportOptions, streams: Streams): Promise<number> {
  const yaml = await withStore(opts, (store) => exportYaml(store, opts.account, opts.out));
  if (opts.out) {
    mkdirSync(dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, yaml);
    streams.stderr.write(`wrote ${opts.out}\n`);
  } else {
    streams.stdout.write(yaml);
  }
  return 0;
}
