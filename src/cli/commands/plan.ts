// `credits plan`: diff credits.yaml against the live state; human, --json or --markdown; --out saves it.
import { writeFileSync } from 'node:fs';
import { renderHuman } from '../../render/human.js';
import { renderJson } from '../../render/json.js';
import { renderMarkdown } from '../../render/markdown.js';
import { withStore } from '../with-store.js';
import { ConfigInvalid, planConfigFile } from '../plan-config-file.js';
import { printErrors, useColour, type Streams } from '../output.js';
import type { Plan } from '../../plan/plan.js';
import { replayUsage, type Replay } from '../../plan/replay.js';
import { readReplayUsage } from '../../ledger/replay-usage.js';
import { renderReplayHuman, renderReplayMarkdown } from '../../render/replay.js';
import { readConfigFile } from '../read-config-file.js';
import type { Store } from '../../state/store.js';

export interface PlanOptions {
  file: string;
  out?: string;
  json?: boolean;
  markdown?: boolean;
  detailedExitcode?: boolean;
  allowDestroy?: boolean;
  replay?: boolean;
  failOnWarning?: boolean;
  databaseUrl?: string;
}

/** The previous cycle's usage against the file's budgets; null when the account has no complete cycle yet. */
async function replayFile(store: Store, file: string): Promise<Replay | null> {
  const { result } = readConfigFile(file);
  if (!result.ok) return null; // planning already refused it
  const usage = await readReplayUsage(store, result.desired.account.id);
  return usage ? replayUsage(result.desired, usage) : null;
}

export function renderPlan(
  plan: Plan,
  opts: { json?: boolean; markdown?: boolean },
  streams: Streams,
): string {
  if (opts.json) return renderJson(plan);
  if (opts.markdown) return renderMarkdown(plan);
  return renderHuman(plan, { colour: useColour(streams.stdout) });
}

export async function planCommand(opts: PlanOptions, streams: Streams): Promise<number> {
  let plan: Plan;
  let replay: Replay | null = null;
  try {
    plan = await withStore(opts, async (store) => {
      const { plan: made } = await planConfigFile(store, opts);
      if (opts.replay) replay = await replayFile(store, opts.file);
      return made;
    });
  } catch (err) {
    if (err instanceof ConfigInvalid) {
      printErrors(err.errors, streams);
      return 1;
    }
    throw err;
  }
  if (opts.out) {
    writeFileSync(opts.out, renderJson(plan));
    streams.stderr.write(`saved plan to ${opts.out}; apply it with \`credits apply ${opts.out}\`\n`);
  }
  if (opts.replay && opts.json) {
    streams.stdout.write(JSON.stringify({ ...plan, replay }, null, 2) + '\n');
  } else {
    streams.stdout.write(renderPlan(plan, opts, streams));
    if (opts.replay) {
      const none = 'Replay: no complete cycle yet, nothing to replay.\n';
      const text = replay ? (opts.markdown ? renderReplayMarkdown(replay) : renderReplayHuman(replay)) : none;
      streams.stdout.write('\n' + text);
    }
  }
  if (opts.failOnWarning && plan.warnings.length > 0) {
    const codes = [...new Set(plan.warnings.map((w) => w.code))].join(', ');
    streams.stderr.write(
      `plan has ${plan.warnings.length} warning(s) (${codes}): failing as --fail-on-warning asks\n`,
    );
    return 1;
  }
  return opts.detailedExitcode && plan.changes.length > 0 ? 2 : 0;
}
