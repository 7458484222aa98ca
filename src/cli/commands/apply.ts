// `credits apply`: apply a saved plan, or plan credits.yaml and apply it after confirmation.
import { createInterface } from 'node:readline/promises';
import { CreditsError } from '../../errors.js';
import { applyPlan, type PlanToApply } from '../../apply/apply-plan.js';
import { checkProtectedGroups } from '../../plan/protect.js';
import { renderHuman } from '../../render/human.js';
import { withStore } from '../with-store.js';
import { ConfigInvalid, planConfigFile } from '../plan-config-file.js';
import { readPlanFile } from '../read-plan-file.js';
import { maxFileBytes } from '../read-config-file.js';
import { printErrors, useColour, type Streams } from '../output.js';

export interface ApplyCommandOptions {
  planFile?: string;
  file: string;
  autoApprove?: boolean;
  allowDestroy?: boolean;
  actor?: string;
  commit?: string;
  databaseUrl?: string;
}

export const actorOf = (opts: { actor?: string }): string =>
  opts.actor || process.env.GIT_AUTHOR_EMAIL || process.env.USER || process.env.USERNAME || 'unknown';

/** Prompts only on an interactive terminal outside CI. */
const canPrompt = (): boolean => process.stdin.isTTY === true && !process.env.CI;

async function confirm(streams: Streams): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: streams.stderr });
  try {
    const answer = await rl.question("Apply these changes? Only 'yes' will be accepted: ");
    return answer.trim() === 'yes';
  } finally {
    rl.close();
  }
}

export async function applyCommand(opts: ApplyCommandOptions, streams: Streams): Promise<number> {
  const saved = opts.planFile ? readPlanFile(opts.planFile) : undefined;
  try {
    return await withStore(opts, async (store) => {
      let made: PlanToApply;
      if (saved) {
        // Applied only if planning the configuration it carries gives it again (apply-plan.ts), even when
        // it has no changes: a file emptied of its changes is refused, not reported as nothing to do.
        checkProtectedGroups(saved, opts.allowDestroy === true);
        made = { plan: saved };
      } else {
        made = await planConfigFile(store, opts);
        const plan = made.plan;
        streams.stdout.write(renderHuman(plan, { colour: useColour(streams.stdout) }));
        if (plan.changes.length === 0) return 0;
        if (!opts.autoApprove) {
          if (!canPrompt()) throw new CreditsError('CONFIRMATION_REQUIRED');
          if (!(await confirm(streams))) throw new CreditsError('APPLY_DECLINED');
        }
      }
      const big = made.plan.changes.length >= 1000;
      const result = await applyPlan(store, made, {
        allowDestroy: opts.allowDestroy === true,
        maxBytes: maxFileBytes(),
        actor: actorOf(opts),
        commitSha: opts.commit || process.env.GITHUB_SHA || null,
        onProgress: big ? (m) => streams.stderr.write(`applying ${m}\n`) : undefined,
      });
      if (saved && result.applied === 0) {
        streams.stdout.write(`No changes in ${opts.planFile}; nothing to apply.\n`);
        return 0;
      }
      streams.stdout.write(
        `Apply complete: ${result.applied} change${result.applied === 1 ? '' : 's'} to account ${result.account}; state serial ${result.stateSerial}.\n`,
      );
      return 0;
    });
  } catch (err) {
    if (err instanceof ConfigInvalid) {
      printErrors(err.errors, streams);
      return 1;
    }
    throw err;
  }
}
