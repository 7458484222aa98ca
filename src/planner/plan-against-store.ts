// Plans credits.yaml bytes against a store: proves "unchanged" cheaply when it can, else plans an edited file
// from its changed entries (plan-edit.ts), else loads the whole file, inspects the live state and diffs.
// Shared by `credits plan`, `credits apply -f`, the re-plan of a saved plan, and the tests.
import { CreditsError } from '../errors.js';
import { loadConfig } from '../config/load-config.js';
import { parseCadence } from '../config/cadence.js';
import { diff } from '../plan/diff.js';
import { checkProtectedGroups } from '../plan/protect.js';
import { annotateSpend, spendQuestions } from '../plan/spend.js';
import { accountAddress } from '../plan/address.js';
import { readSpendFacts } from '../ledger/plan-spend.js';
import { emptySummary, PLAN_FORMAT_VERSION, type Plan } from '../plan/plan.js';
import { findUnchangedSince, inspect, readMemberText } from '../state/inspect.js';
import { nextBoundaries } from '../ledger/cycle-windows.js';
import { readDatabaseId } from '../state/database-identity.js';
import type { Queryable, Store } from '../state/store.js';
import { configText, digestOf, guessAccountId } from './config-bytes.js';
import { planEdit } from './plan-edit.js';

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

/**
 * What a plan was made from, for apply: the file's bytes and the declared_version of the live state the diff
 * read (null: no account yet). Kept beside the plan object rather than in it, so saved plans stay as they are.
 */
export interface PlanSource {
  /** How the plan was made: unchanged file (nothing read), edited file (changed groups read), full parse. */
  path: 'unchanged' | 'edit' | 'full';
  bytes: Uint8Array | string;
  declaredVersion: number | null;
  /** The plan's changes when it was made: apply trusts the source only for a plan whose changes these still are. */
  changes: Plan['changes'];
  changeCount: number;
}

/** A plan made in this process, with what it was made from. */
export interface MadePlan {
  plan: Plan;
  source: PlanSource;
}

/** Whether `source` still describes `plan`: its changes were not replaced or altered in number since. */
export const sourceDescribes = (source: PlanSource, plan: Plan): boolean =>
  source.changes === plan.changes && source.changeCount === plan.changes.length;

/**
 * Completes a plan for saving (the database it was made on, the declared_version it saw, the configuration
 * whole) and pairs it with its source for apply.
 */
async function complete(
  db: Queryable,
  input: MakePlanInput,
  path: PlanSource['path'],
  plan: Plan,
  declaredVersion: number | null,
): Promise<MadePlan> {
  const bytes = input.bytes;
  if (input.advice !== false) await addSpend(db, plan);
  plan.databaseId = await readDatabaseId(db);
  plan.declaredVersion = declaredVersion;
  plan.config = configText(bytes);
  const source = { path, bytes, declaredVersion, changes: plan.changes, changeCount: plan.changes.length };
  return { plan, source };
}

/**
 * Spend-aware plans: budget changes of an existing account get what is used this cycle and what remains after
 * them, risky ones coded warnings, and drifted values who changed them (src/plan/spend.ts). Advisory: a
 * saved plan is not compared on them.
 */
async function addSpend(db: Queryable, plan: Plan): Promise<void> {
  if (plan.changes.length === 0 || plan.changes.some((c) => c.address === accountAddress())) return;
  const ask = spendQuestions(plan);
  const facts = await readSpendFacts(db, plan.account, {
    ...ask,
    driftAddresses: plan.changes.filter((c) => c.drift).map((c) => c.address),
  });
  const after = (field: 'cycle.cadence' | 'cycle.timezone', current: string): string => {
    const c = plan.changes.find((x) => x.address === accountAddress(field));
    return typeof c?.after === 'string' ? c.after : current;
  };
  if (facts.cycle) {
    const cadence = after('cycle.cadence', facts.cycle.cadence);
    const timezone = after('cycle.timezone', facts.cycle.timezone);
    const restarts = cadence !== facts.cycle.cadence || timezone !== facts.cycle.timezone;
    if (restarts) {
      facts.nextBoundaries = previewCycles(cadence, timezone, new Date(plan.createdAt)).map((d) =>
        d.toISOString(),
      );
    }
  }
  const annotated = annotateSpend(plan, facts);
  plan.changes = annotated.changes;
  plan.warnings = annotated.warnings;
}

export interface MakePlanInput {
  bytes: Uint8Array | string;
  file: string;
  maxBytes?: number;
  allowDestroy?: boolean;
  now?: Date;
  /** false: never plan from the last applied text, always parse the whole file (tests compare the two). */
  reuseApplied?: boolean;
  /** false: skip the live advice (spend notes, warnings, who drifted); a saved plan's re-plan is not compared on it. */
  advice?: boolean;
}

export async function makePlan(db: Queryable, input: MakePlanInput): Promise<MadePlan> {
  const now = input.now ?? new Date();
  const digest = digestOf(input.bytes);
  // Fast path: this exact file was the last apply and nothing declared moved since (triggers count every
  // write, including SQL that bypasses credits), so the plan is empty without parsing 100k members.
  const unchanged = await findUnchangedSince(db, digest);
  if (unchanged.length === 1) {
    const head = unchanged[0]!;
    return complete(
      db,
      input,
      'unchanged',
      {
        formatVersion: PLAN_FORMAT_VERSION,
        account: head.accountId,
        stateSerial: head.stateSerial,
        configDigest: digest,
        createdAt: now.toISOString(),
        summary: emptySummary(),
        changes: [],
        warnings: [],
      },
      head.declaredVersion,
    );
  }
  const ctx = { configDigest: digest, now, previewCycles };
  const edited = input.reuseApplied === false ? undefined : await planEdit(db, input, ctx);
  if (edited) {
    checkProtectedGroups(edited.plan, input.allowDestroy === true);
    return complete(db, input, 'edit', edited.plan, edited.declaredVersion);
  }
  // On PostgreSQL the server builds the members text while this process parses the file: the read starts
  // first, for the account the file seems to name (used only if the parse confirms it).
  const guess = (db as Partial<Store>).kind === 'postgres' ? guessAccountId(input.bytes) : undefined;
  const prefetched = guess === undefined ? undefined : readMemberText(db, guess);
  if (prefetched) {
    prefetched.catch(() => {}); // awaited below when used; a failure then is reported there
    await new Promise((resolve) => setImmediate(resolve)); // let the driver send it
  }
  const result = loadConfig(input.bytes, { file: input.file, maxBytes: input.maxBytes });
  if (!result.ok) throw new ConfigInvalid(result.errors);
  const live = await inspect(db, result.desired.account.id, {
    prefetched: result.desired.account.id === guess ? prefetched : undefined,
  });
  const plan = diff(result.desired, live, ctx);
  checkProtectedGroups(plan, input.allowDestroy === true);
  return complete(db, input, 'full', plan, live.declaredVersion ?? null);
}
