// `credits plan`: diff credits.yaml against the live state; human, --json or --markdown; --out saves it.
import { writeFileSync } from 'node:fs';
import { renderHuman } from '../../render/human.js';
import { renderJson } from '../../render/json.js';
import { renderMarkdown } from '../../render/markdown.js';
import { withStore } from '../with-store.js';
import { ConfigInvalid, planFile } from '../make-plan.js';
import { printErrors, useColour, type Streams } from '../output.js';
import type { Plan } from '../../plan/plan.js';

export interface PlanOptions {
  file: string;
  out?: string;
  json?: boolean;
  markdown?: boolean;
  detailedExitcode?: boolean;
  allowDestroy?: boolean;
  databaseUrl?: string;
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
  try {
    plan = await withStore(opts, (store) => planFile(store, opts));
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
  streams.stdout.write(renderPlan(plan, opts, streams));
  return opts.detailedExitcode && plan.changes.length > 0 ? 2 : 0;
}
