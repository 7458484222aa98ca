// The plan of an edited credits.yaml, made by reading only the group entries that changed since the last
// apply. makePlan (plan-against-store.ts) tries it first and falls back to the full path.
import { DEFAULT_MAX_FILE_BYTES, loadConfig } from '../config/load-config.js';
import { partToReread, splitLayout } from '../config/layout.js';
import { parseYamlExact } from '../config/parse-yaml.js';
import { dec } from '../decimal.js';
import { DEFAULT_GROUP, type DeclaredGroup, type DeclaredState } from '../declared-state.js';
import { diff, type DiffContext } from '../plan/diff.js';
import type { Plan } from '../plan/plan.js';
import {
  declaredGroupsOf,
  declaredVersionOf,
  inspect,
  readAppliedFile,
  rolloverMaxOf,
} from '../state/inspect.js';
import type { Queryable } from '../state/store.js';
import { decodeConfigText } from './config-bytes.js';

/**
 * The plan of a file that differs a little from the last applied one, reading only what changed; undefined
 * whenever that cannot be proved to give the very plan of the full path (plan-against-store.ts; it then runs).
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
export async function planEdit(
  db: Queryable,
  input: { bytes: Uint8Array | string; file: string; maxBytes?: number },
  ctx: DiffContext,
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
