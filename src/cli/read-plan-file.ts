// Loads a plan saved by `credits plan --out`, checking that it is one before anything is applied. Whether it
// is the plan its configuration gives is checked by apply, against the live state (apply/replan-saved.ts).
import { readFileSync } from 'node:fs';
import { CreditsError } from '../errors.js';
import type { Plan } from '../plan/plan.js';
import { checkPlan } from '../plan/check-plan.js';

export function readPlanFile(file: string): Plan {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CreditsError('PLAN_FILE_NOT_FOUND', { file });
    throw new CreditsError('PLAN_INVALID', { reason: code ? `cannot read ${file}` : 'not JSON' });
  }
  return checkPlan(data);
}
