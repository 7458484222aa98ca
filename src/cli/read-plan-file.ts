// Loads a plan saved by `credits plan --out`, checking that it is one before anything is applied.
import { CreditsError } from '../errors.js';
import { maxFileBytes, readBoundedBytes } from './read-config-file.js';
import { PLAN_FORMAT_VERSION, type Plan } from '../plan/plan.js';

/** A plan repeats each change's before and after: allow it more room than the file it was made from. */
const PLAN_MAX_BYTES = (): number => 4 * maxFileBytes();
const ACTIONS = new Set(['create', 'update', 'delete', 'move']);

export function readPlanFile(file: string): Plan {
  let data: unknown;
  try {
    data = JSON.parse(readBoundedBytes(file, PLAN_MAX_BYTES()).toString('utf8'));
  } catch (err) {
    if (err instanceof CreditsError) throw err; // not a regular file, or too large
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CreditsError('PLAN_FILE_NOT_FOUND', { file });
    throw new CreditsError('PLAN_INVALID', { reason: code ? `cannot read ${file}` : 'not JSON' });
  }
  const p = data as Partial<Plan>;
  if (typeof p !== 'object' || p === null || !('formatVersion' in p)) {
    throw new CreditsError('PLAN_INVALID', { reason: 'formatVersion is missing' });
  }
  if (p.formatVersion !== PLAN_FORMAT_VERSION) {
    throw new CreditsError('PLAN_FORMAT_UNSUPPORTED', { version: String(p.formatVersion) });
  }
  if (
    typeof p.account !== 'string' ||
    !Number.isInteger(p.stateSerial) ||
    typeof p.configDigest !== 'string' ||
    !Array.isArray(p.changes) ||
    !p.changes.every(
      (c) => c && typeof c.address === 'string' && ACTIONS.has(c.action) && 'before' in c && 'after' in c,
    )
  ) {
    throw new CreditsError('PLAN_INVALID', {
      reason: 'missing or malformed account, stateSerial, configDigest or changes',
    });
  }
  return { summary: { create: 0, update: 0, delete: 0, move: 0 }, warnings: [], ...p } as Plan;
}
