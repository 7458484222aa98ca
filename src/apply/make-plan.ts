// Plans credits.yaml bytes against a store: proves "unchanged" cheaply when it can, else loads the file,
// inspects the live state and diffs. Shared by `credits plan`, `credits apply -f` and the tests.
import { createHash } from 'node:crypto';
import { CreditsError } from '../errors.js';
import { loadConfig } from '../config/load-config.js';
import { parseCadence } from '../config/cadence.js';
import { diff } from '../plan/diff.js';
import { checkProtectedGroups } from '../plan/protect.js';
import { emptySummary, PLAN_FORMAT_VERSION, type Plan } from '../plan/plan.js';
import { findUnchangedSince, inspect } from '../state/inspect.js';
import { nextBoundaries } from '../ledger/cycle.js';
import type { Queryable } from '../state/store.js';

export const digestOf = (bytes: Uint8Array | string): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** The file did not load; `errors` are positioned, coded errors. */
export class ConfigInvalid extends Error {
  constructor(readonly errors: CreditsError[]) {
    super(errors.map((e) => e.message).join('; '));
    this.name = 'ConfigInvalid';
  }
}

export function previewCycles(cadenceText: string, timezone: string, from: Date): Date[] {
  const cadence = parseCadence(cadenceText);
  return cadence ? nextBoundaries(from, cadence, timezone, from, 3) : [];
}

export interface MakePlanInput {
  bytes: Uint8Array | string;
  file: string;
  maxBytes?: number;
  allowDestroy?: boolean;
  now?: Date;
}

export async function makePlan(db: Queryable, input: MakePlanInput): Promise<Plan> {
  const now = input.now ?? new Date();
  const digest = digestOf(input.bytes);
  // Fast path: this exact file was the last apply and nothing declared moved since (triggers count every
  // write, including SQL that bypasses credits), so the plan is empty without parsing 100k members.
  const unchanged = await findUnchangedSince(db, digest);
  if (unchanged.length === 1) {
    const head = unchanged[0]!;
    return {
      formatVersion: PLAN_FORMAT_VERSION,
      account: head.accountId,
      stateSerial: head.stateSerial,
      configDigest: digest,
      createdAt: now.toISOString(),
      summary: emptySummary(),
      changes: [],
      warnings: [],
    };
  }
  const result = loadConfig(input.bytes, { file: input.file, maxBytes: input.maxBytes });
  if (!result.ok) throw new ConfigInvalid(result.errors);
  const live = await inspect(db, result.desired.account.id);
  const plan = diff(result.desired, live, { configDigest: digest, now, previewCycles });
  checkProtectedGroups(plan, input.allowDestroy === true);
  return plan;
}
