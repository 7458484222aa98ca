// Reads credits.yaml for `plan` / `apply -f` (size checked before reading) and plans it against the store.
import { makePlan, ConfigInvalid, type MadePlan } from '../planner/plan-against-store.js';
import { readBoundedFile, maxFileBytes } from './read-config-file.js';
import type { Store } from '../state/store.js';

export { ConfigInvalid };

export async function planConfigFile(
  store: Store,
  opts: { file: string; allowDestroy?: boolean },
): Promise<MadePlan> {
  const read = readBoundedFile(opts.file);
  if ('error' in read) throw new ConfigInvalid([read.error]);
  return makePlan(store, {
    bytes: read.bytes,
    file: opts.file,
    maxBytes: maxFileBytes(),
    allowDestroy: opts.allowDestroy,
  });
}
