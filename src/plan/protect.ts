// `protect: true` groups: a plan that deletes one fails unless --allow-destroy is given.
import { CreditsError } from '../errors.js';
import type { Plan } from './plan.js';
import { parseAddress } from './address.js';

export function checkProtectedGroups(plan: Plan, allowDestroy: boolean): void {
  if (allowDestroy) return;
  for (const c of plan.changes) {
    if (c.action !== 'delete') continue;
    const address = parseAddress(c.address, c.action);
    if (address?.kind !== 'group') continue;
    const before = c.before as Record<string, unknown> | null;
    if (before?.protect === true) {
      throw new CreditsError('PROTECTED_GROUP', { action: 'delete', group: address.key });
    }
  }
}
