// Plans credits.yaml bytes against a store: proves "unchanged" cheaply when it can, else loads the file,
// inspects the live state and diffs. Shared by `credits plan`, `credits apply -f` and the tests.
import { createHash } from 'node:crypto';
import { CreditsError } from '../errors.js';
import { DEFAULT_MAX_FILE_BYTES, loadConfig } from '../config/load-config.js';
import { parseCadence } from '../config/cadence.js';
import { partToReread, splitLayout } from '../config/layout.js';
import { parseYamlExact } from '../config/parse-yaml.js';
import { dec } from '../decimal.js';
import { DEFAULT_GROUP, type DeclaredGroup, type DeclaredState } from '../declared-state.js';
import { diff } from '../plan/diff.js';
import { checkProtectedGroups } from '../plan/protect.js';
import { annotateSpend, spendQuestions } from '../plan/spend.js';
import { accountAddress } from '../plan/address.js';
import { readSpendFacts } from '../ledger/plan-spend.js';
import { emptySummary, PLAN_FORMAT_VERSION, type Plan } from '../plan/plan.js';
import {
  declaredGroupsOf,
  declaredVersionOf,
  findUnchangedSince,
  inspect,
  readAppliedFile,
  readMemberText,
  rolloverMaxOf,
} from '../state/inspect.js';
import { nextBoundaries } from '../ledger/cycle-windows.js';
import { readDatabaseId } from '../state/database-identity.js';
import type { Queryable, Store } from '../state/store.js';

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

/**
 * What a plan was made from, for apply: the file's bytes and the declared_version of the live state the diff
 * read (null: no account yet). Kept beside the plan object rather than in it, so saved plans stay as they are.
 */
export interface PlanSource {
  /** How the plan was made: unchanged file (nothing read), edited file (changed groups read), full parse. */
  path: 'unchanged' | 'edit' | 'full';
  bytes: Uint8Array | string;
  declaredVersion: number | null;
  changes: Plan['changes'];
  changeCount: number;
}
const sources = new WeakMap<Plan, PlanSource>();

/** The file's bytes as text, BOM kept, so that its UTF-8 encoding is those very bytes (and digest). */
function configText(bytes: Uint8Array | string): string {
  return typeof bytes === 'string'
    ? bytes
    : new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
}

/** The source of a plan made by makePlan in this process and not altered since; undefined otherwise. */
export function planSource(plan: Plan): PlanSource | undefined {
  const s = sources.get(plan);
  return s && s.changes === plan.changes && s.changeCount === plan.changes.length ? s : undefined;
}

/**
 * Completes a plan for saving (the database it was made on, the declared_version it saw, the configuration
 * whole) and records its source for apply.
 */
async function remember(
  db: Queryable,
  input: MakePlanInput,
  path: PlanSource['path'],
  plan: Plan,
  declaredVersion: number | null,
): Promise<Plan> {
  const bytes = input.bytes;
  if (input.advice !== false) await addSpend(db, plan);
  plan.databaseId = await readDatabaseId(db);
  plan.declaredVersion = declaredVersion;
  plan.config = configText(bytes);
  sources.set(plan, {
    path,
    bytes,
    declaredVersion,
    changes: plan.changes,
    changeCount: plan.changes.length,
  });
  return plan;
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

/** The file as text, the way loadConfig decodes it; undefined where loadConfig would report an error. */
export function decodeConfigText(bytes: Uint8Array | string, maxBytes: number): string | undefined {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (size > maxBytes) return undefined;
  let text: string;
  try {
    text = typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text.trim() === '' ? undefined : text;
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

export async function makePlan(db: Queryable, input: MakePlanInput): Promise<Plan> {
  const now = input.now ?? new Date();
  const digest = digestOf(input.bytes);
  // Fast path: this exact file was the last apply and nothing declared moved since (triggers count every
  // write, including SQL that bypasses credits), so the plan is empty without parsing 100k members.
  const unchanged = await findUnchangedSince(db, digest);
  if (unchanged.length === 1) {
    const head = unchanged[0]!;
    return remember(
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
    return remember(db, input, 'edit', edited.plan, edited.declaredVersion);
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
  return remember(db, input, 'full', plan, live.declaredVersion ?? null);
}

/** The `id:` under a top-level `account:` near the start of the file, if it looks like one; only a guess. */
export function guessAccountId(bytes: Uint8Array | string): string | undefined {
  const start =
    typeof bytes === 'string'
      ? bytes.slice(0, 16_384)
      : Buffer.from(bytes.subarray(0, 16_384)).toString('utf8');
  return /^account:[ \t]*\r?\n(?:[ \t].*\r?\n|\r?\n)*?[ \t]+id:[ \t]*([a-z0-9][a-z0-9_-]{0,62})[ \t]*\r?$/m.exec(
    start,
  )?.[1];
}

/**
 * The plan of a file that differs a little from the last applied one, reading only what changed; undefined
 * whenever that cannot be proved to give the very plan of the full path below (which then runs).
 *
 * The proof: the last apply stored its file's text only if the live declared state then equalled the file,
 * and declared_version (bumped by every write to declared state, SQL included) has not moved since. So the
 * live groups and members are what the stored text says. Group entries that are byte-identical in both texts
 * (in the one-line YAML subset of config/layout.ts, an entry's value depends on its text alone) are therefore
 * equal to their live rows and contribute no change: only the head, the changed entries and the tail are
 * loaded (every schema and per-group rule runs on them); the rules that span groups are checked against the
 * live rows; and the diff reads the members of the other groups only. Any error goes to the full path, so
 * errors and their positions are always the full loader's.
 */
async function planEdit(
  db: Queryable,
  input: MakePlanInput,
  ctx: { configDigest: string; now: Date; previewCycles: typeof previewCycles },
): Promise<{ plan: Plan; declaredVersion: number } | undefined> {
  const text = decodeConfigText(input.bytes, input.maxBytes ?? DEFAULT_MAX_FILE_BYTES);
  if (text === undefined) return undefined;
  const next = splitLayout(text);
  if (!next || next.blocks.length === 0) return undefined;
  const head = parseYamlExact(next.head + next.tail);
  const id = head.ok ? (head.value as { account?: { id?: unknown } } | null)?.account?.id : undefined;
  if (typeof id !== 'string') return undefined;
  const applied = await readAppliedFile(db, id);
  if (!applied) return undefined;
  const before = splitLayout(applied.text);
  const reparse = before && partToReread(next, before);
  if (!reparse) return undefined;
  const part = loadConfig(reparse.text, { file: input.file });
  if (!part.ok || part.desired.account.id !== id) return undefined;

  const live = await inspect(db, id, { skipMembersOf: reparse.unchanged });
  if (!live.state || live.declaredVersion !== applied.declaredVersion) return undefined;
  // Unchanged entries: their live rows are their values.
  const liveGroups = new Map(live.state.groups.map((g) => [g.key, g]));
  const groups: DeclaredGroup[] = [];
  for (const key of reparse.unchanged) {
    const g = liveGroups.get(key);
    if (!g) return undefined;
    groups.push(g);
  }
  // Without a `default` entry the loader added the Default group; keep that only if the file has none.
  for (const g of part.desired.groups) {
    if (!(g.key === DEFAULT_GROUP && reparse.unchanged.has(DEFAULT_GROUP))) groups.push(g);
  }
  groups.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  // Rules across groups. A member of a changed entry must not also be declared in an unchanged one...
  const elsewhere = await declaredGroupsOf(
    db,
    id,
    part.desired.members.map((m) => m.email),
  );
  for (const group of elsewhere.values()) if (reparse.unchanged.has(group)) return undefined;
  // ...and all group budgets together must fit the account's limit.
  let total = dec(0);
  for (const g of groups) total = total.plus(g.allocation).plus(g.extra);
  if (total.greaterThan(part.desired.account.creditLimit)) return undefined;
  // ...also with the rollover maxima of pools and members (the unchanged groups' members from their rows).
  const carries = [...part.desired.members, ...groups]
    .reduce((s, x) => (x.rollover === undefined ? s : s.plus(x.rollover)), dec(0))
    .plus(await rolloverMaxOf(db, id, [...reparse.unchanged]));
  if (total.plus(carries).greaterThan(part.desired.account.creditLimit)) return undefined;
  // Nothing declared was written while we read (declared_version only grows).
  if ((await declaredVersionOf(db, id)) !== applied.declaredVersion) return undefined;

  // The diff of these against `live` (whose members are those of the other groups) is the full diff: the
  // members left out are equal on both sides and yield no change.
  const desired: DeclaredState = { account: part.desired.account, groups, members: part.desired.members };
  return { plan: diff(desired, live, ctx), declaredVersion: applied.declaredVersion };
}
