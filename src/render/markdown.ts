// Markdown view for pull-request comments: summary table first, per-group details folded in <details>.
// Never longer than the cap: whole sections, then whole lines, then a count of what was left out.
import type { Change, Plan } from '../plan/plan.js';
import { ALERTS_SECTION, changeLine, driftNote, sectionOf, spendNote } from './describe-change.js';
import { parseAddress } from '../plan/address.js';

export const MARKDOWN_MAX_CHARS = 60_000;

export function renderMarkdown(plan: Plan, maxChars = MARKDOWN_MAX_CHARS): string {
  const s = plan.summary;
  const head: string[] = [`### credits plan for \`${plan.account}\``, ''];
  if (plan.changes.length === 0) {
    head.push(`**No changes.** Live state matches the configuration (state serial ${plan.stateSerial}).`);
    return head.join('\n') + '\n';
  }
  // Warnings first: they are what a reviewer must not miss.
  for (const w of plan.warnings) head.push(`> **Warning** \`${w.code}\`: ${w.message}`, '');
  head.push(
    '| create | update | move | delete | drift |',
    '| ---: | ---: | ---: | ---: | ---: |',
    `| ${s.create} | ${s.update} | ${s.move} | ${s.delete} | ${plan.changes.filter((c) => c.drift).length} |`,
    '',
    `State serial ${plan.stateSerial} · config \`${plan.configDigest.slice(0, 19)}\``,
    '',
  );
  const effects = plan.changes.filter(
    (c) => c.effects.length && parseAddress(c.address, c.action)?.kind !== 'member',
  );
  if (effects.length) {
    head.push('**Immediate effects**', '');
    for (const c of effects.slice(0, 20)) for (const e of c.effects) head.push(`- \`${c.address}\`: ${e}`);
    if (effects.length > 20) head.push(`- … and ${effects.length - 20} more`);
    head.push('');
  }

  const sections = new Map<string, Change[]>();
  for (const c of plan.changes) {
    const key = sectionOf(c);
    sections.set(key, [...(sections.get(key) ?? []), c]);
  }

  const footerReserve = 400;
  let out = head.join('\n') + '\n';
  const omitted: string[] = [];
  for (const [name, changes] of sections) {
    const title = name === 'account' ? 'Account' : name === ALERTS_SECTION ? 'Alerts' : `Group \`${name}\``;
    const open = `<details><summary>${title}: ${changes.length} change${changes.length === 1 ? '' : 's'}</summary>\n\n\`\`\`diff\n`;
    const close = '```\n\n</details>\n\n';
    const budget = maxChars - footerReserve - out.length - open.length - close.length;
    if (budget < 200) {
      omitted.push(`${title}: ${changes.length}`);
      continue;
    }
    let body = '';
    let shown = 0;
    for (const c of changes) {
      const lines = [changeLine(c)];
      const drift = driftNote(c);
      if (drift) lines.push(`!   ${drift}`);
      for (const e of c.effects) lines.push(`#   ${e}`);
      const spend = spendNote(c);
      if (spend) lines.push(`#   ${spend}`);
      const text = lines.join('\n') + '\n';
      if (body.length + text.length > budget - 80) break;
      body += text;
      shown++;
    }
    if (shown < changes.length)
      body += `# … ${changes.length - shown} more changes in this section not shown\n`;
    out += open + body + close;
  }
  if (omitted.length) {
    const list = omitted.join(', ');
    const line = `${omitted.length} more section${omitted.length === 1 ? '' : 's'} not shown (${list}`;
    const room = maxChars - out.length - 120;
    out +=
      (line.length > room ? line.slice(0, Math.max(0, room)).replace(/,[^,]*$/, ', …') : line) + ').\n\n';
  }
  out += '_Run `credits plan` locally or download the plan artifact for every change._\n';
  return out;
}
