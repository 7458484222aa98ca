// Human view of a plan: Terraform-style symbols, colour when asked, unchanged values never shown.
import type { Plan } from '../plan/plan.js';
import { changeLine, driftNote, spendNote, summaryLine, warningLine } from './describe-change.js';

const ANSI = {
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  red: '\x1b[31m',
  cyan: '\x1b[36m',
  bold: '\x1b[1m',
  dim: '\x1b[2m',
  reset: '\x1b[0m',
};
const COLOUR_OF = { create: ANSI.green, update: ANSI.yellow, delete: ANSI.red, move: ANSI.cyan } as const;

export interface HumanOptions {
  colour: boolean;
}

export function renderHuman(plan: Plan, opts: HumanOptions): string {
  const paint = (colour: string, text: string): string =>
    opts.colour ? `${colour}${text}${ANSI.reset}` : text;
  if (plan.changes.length === 0) {
    return `${paint(ANSI.bold, 'No changes.')} Account ${plan.account} matches the configuration (state serial ${plan.stateSerial}).\n`;
  }
  const out: string[] = [
    `credits will make these changes to account ${paint(ANSI.bold, plan.account)} (state serial ${plan.stateSerial}):`,
    '',
  ];
  for (const c of plan.changes) {
    out.push('  ' + paint(COLOUR_OF[c.action], changeLine(c)));
    const drift = driftNote(c);
    if (drift) out.push('      ' + paint(ANSI.yellow, `! ${drift}`));
    for (const e of c.effects) out.push('      ' + paint(ANSI.dim, `→ ${e}`));
    const spend = spendNote(c);
    if (spend) out.push('      ' + paint(ANSI.dim, `→ ${spend}`));
  }
  if (plan.warnings.length) {
    out.push('', paint(ANSI.yellow, 'Warnings:'));
    for (const w of plan.warnings) out.push(`  - ${warningLine(w)}`);
  }
  out.push('', paint(ANSI.bold, summaryLine(plan.summary)));
  return out.join('\n') + '\n';
}
