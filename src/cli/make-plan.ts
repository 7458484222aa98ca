// Reads credits.yaml for `plan` / `apply -f` (size checked before reading) and plans it against the store.
import { makePlan, ConfigInvalid } from '../apply/make-plan.js';
import { readConfigFile, maxFileBytes } from './read-config-file.js';
import { readFileSync, statSync } from 'node:fs';
import type { Plan } from '../plan/plan.js';
import type { Store } from '../state/store.js';

export { ConfigInvalid };

export async function planFile(store: Store, opts: { file: string; allowDestroy?: boolean }): Promise<Plan> {
  let bytes: Buffer;
  try {
    if (statSync(opts.file).size > maxFileBytes()) throw new Error('too large');
    bytes = readFileSync(opts.file);
  } catch {
    // Missing, unreadable or too large: let the config reader produce the coded error.
    const { result } = readConfigFile(opts.file);
    throw new ConfigInvalid(result.ok ? [] : result.errors);
  }
  return makePlan(store, {
    bytes,
    file: opts.file,
    maxBytes: maxFileBytes(),
    allowDestroy: opts.allowDestroy,
  });
}
