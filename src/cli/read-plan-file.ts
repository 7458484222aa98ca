// Loads a plan saved by `credits plan --out`, checking that it is one before anything is applied. Whether it
// is the plan its configuration gives is checked by apply, against the live state (apply/replan-saved.ts).
import { CreditsError } from '../errors.js';
import { maxFileBytes, readBoundedBytes } from './read-config-file.js';
import type { Plan } from '../plan/plan.js';
import { checkPlan } from '../plan/check-plan.js';

/** A plan repeats each change's before and after and carries its file: allow it more room than the file. */
const PLAN_MAX_BYTES = (): number => 4 * maxFileBytes();

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
  return checkPlan(data);
}
