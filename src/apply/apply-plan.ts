// Applies a Plan: one transaction under the account's declared-state lock, the state serial rechecked, the
// writes (src/state/declared/), one audit row per change. Either all of the plan lands or none of it.
import { CreditsError } from '../errors.js';
import type { ChangeValue, Plan } from '../plan/plan.js';
import type { Store } from '../state/store.js';
import { declaredTransaction, lockAccountHead } from '../state/declared/transaction.js';
import { writePlanChanges } from '../state/declared/plan-writes.js';
import { markApplied } from '../state/declared/serial.js';
import { writeAudit } from '../state/declared/audit.js';
import { upkeepAfterApply } from '../state/pglite-upkeep.js';
import { decodeConfigText } from '../planner/config-bytes.js';
import { sourceDescribes, type MadePlan, type PlanSource } from '../planner/plan-against-store.js';
import { replanSaved } from './replan-saved.js';
import { checkPlan } from '../plan/check-plan.js';
import { accountAddress } from '../plan/address.js';

export { ANALYZE_AFTER_CHANGES } from '../state/pglite-upkeep.js';

export interface ApplyOptions {
  actor: string;
  commitSha?: string | null;
  /** audit source: `apply` for credits apply. */
  source?: string;
  now?: Date;
  onProgress?: (message: string) => void;
  /** For a saved plan, planned again under the lock: as `--allow-destroy`, and the size limit of its file. */
  allowDestroy?: boolean;
  maxBytes?: number;
}

/**
 * A plan to apply: one makePlan made in this process, with its source, or a saved one (no source), which is
 * trusted for nothing.
 */
export interface PlanToApply {
  plan: Plan;
  source?: PlanSource;
}

export interface ApplyResult {
  account: string;
  stateSerial: number;
  applied: number;
}

/**
 * Applies a plan. One without its source, or whose source no longer describes it (a saved plan, read from a
 * file, or a plan altered since it was made), is trusted for nothing: its configuration is planned again under
 * the lock and only that plan, identical to the saved one, is applied (replan-saved.ts).
 */
export async function applyPlan(
  store: Store,
  { plan: given, source: givenSource }: PlanToApply,
  opts: ApplyOptions,
): Promise<ApplyResult> {
  const now = opts.now ?? new Date();
  const progress = opts.onProgress ?? (() => {});
  const trusted: MadePlan | undefined =
    givenSource && sourceDescribes(givenSource, given) ? { plan: given, source: givenSource } : undefined;
  if (!trusted) checkPlan(given); // its shape and addresses, before the account's lock is taken in its name
  // A deadlock victim is applied again from the start: it rolled back entirely.
  const result = await declaredTransaction(store, given.account, async (tx) => {
    const live = await lockAccountHead(tx, given.account);
    const serial = live?.stateSerial ?? 0;
    const head = { stateSerial: serial, declaredVersion: live?.declaredVersion ?? null };
    const { plan, source } = trusted ?? (await replanSaved(tx, given, head, opts));
    if (!trusted && plan.changes.length === 0)
      return { account: plan.account, stateSerial: serial, applied: 0, keptText: false };
    const creating = plan.changes.some((c) => c.address === accountAddress() && c.action === 'create');
    if (serial !== plan.stateSerial || (creating && live)) {
      throw new CreditsError('PLAN_STALE', { planned: plan.stateSerial, current: serial });
    }

    // After the writes below, the live declared state is exactly the file's when the plan was diffed against
    // the state still live: made in this process (a saved plan was just planned again, above) from the same
    // declared_version. Only then are the file's digest (the next plan of the same file then skips everything,
    // planner/plan-against-store.ts) and its text (for the next plan of an edited file) kept; otherwise an SQL
    // write that landed between plan and apply would hide as "no changes".
    const exact = source.declaredVersion === (live ? live.declaredVersion : null);
    const fileText = exact ? decodeConfigText(source.bytes, Number.MAX_SAFE_INTEGER) : undefined;

    await writePlanChanges(tx, plan, now, progress);
    const newSerial = await markApplied(tx, plan.account, exact ? plan.configDigest : null, fileText);
    progress(`audit: ${plan.changes.length} rows`);
    const json = (v: ChangeValue | undefined): string | null => (v == null ? null : JSON.stringify(v));
    await writeAudit(
      tx,
      {
        accountId: plan.account,
        stateSerial: newSerial,
        actor: opts.actor,
        source: opts.source ?? 'apply',
        commitSha: opts.commitSha ?? null,
      },
      plan.changes.map((c) => ({
        address: c.address,
        action: c.action,
        before: json(c.before),
        after: json(c.after),
      })),
    );
    return {
      account: plan.account,
      stateSerial: newSerial,
      applied: plan.changes.length,
      keptText: fileText !== undefined,
    };
  });
  await upkeepAfterApply(store, { keptText: result.keptText, changes: result.applied });
  return { account: result.account, stateSerial: result.stateSerial, applied: result.applied };
}
