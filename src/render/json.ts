// The versioned machine view: the plan artifact itself (formatVersion), stable key order.
import type { Plan } from '../plan/plan.js';

export const renderJson = (plan: Plan): string => JSON.stringify(plan, null, 2) + '\n';
