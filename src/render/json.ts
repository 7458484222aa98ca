// The versioned machine view: the plan artifact itself (formatVersion), stable key order. It is also the
// saved plan (`credits plan --out`): the configuration it was made from comes last, whole.
import type { Plan } from '../plan/plan.js';

export const renderJson = (plan: Plan): string =>
  JSON.stringify(
    {
      formatVersion: plan.formatVersion,
      account: plan.account,
      databaseId: plan.databaseId,
      stateSerial: plan.stateSerial,
      declaredVersion: plan.declaredVersion,
      configDigest: plan.configDigest,
      createdAt: plan.createdAt,
      summary: plan.summary,
      changes: plan.changes,
      warnings: plan.warnings,
      config: plan.config,
    },
    null,
    2,
  ) + '\n';
