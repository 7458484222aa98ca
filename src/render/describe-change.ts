// Shared wording of one change for the human and Markdown views: symbol, address and values, one line.
import type { Change, ChangeAction, ChangeValue } from '../plan/plan.js';
import { parseAddress } from '../plan/address.js';

export const SYMBOL: Record<ChangeAction, string> = { create: '+', update: '~', delete: '-', move: '±' };

export function formatValue(v: ChangeValue): string {
  if (v === null) return 'none';
  // Amounts, keys, zones and e-mails read best bare; free text (names) is quoted.
  if (typeof v === 'string') return /^[\w.@/+-]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'boolean') return String(v);
  return Object.entries(v)
    .filter(([, x]) => x !== null && x !== false && x !== '0')
    .map(([k, x]) => `${k}=${formatValue(x)}`)
    .join(' ');
}

/** `~ group.eng.allocation: 40000 → 45000`, `+ member.a@b.c (group=eng allocation=5000)`. */
export function changeLine(c: Change): string {
  const head = `${SYMBOL[c.action]} ${c.address}`;
  switch (c.action) {
    case 'create':
      return `${head} (${formatValue(c.after)})`;
    case 'delete':
      return `${head} (was ${formatValue(c.before)})`;
    default:
      return `${head}: ${formatValue(c.before)} → ${formatValue(c.after)}`;
  }
}

export const driftNote = (c: Change): string | undefined =>
  c.drift
    ? `changed outside credits.yaml: applied ${formatValue(c.drift.applied)}, now ${formatValue(c.before)}${provenance(c)}`
    : undefined;

/** `, by token:… (api) at …` from the audit log, or `, by SQL or another tool (no audit row)`. */
function provenance(c: Change): string {
  const by = c.changedBy;
  if (!by) return '';
  if (by.source === 'unknown') return ' (no audit row: changed by SQL or another tool)';
  const how = by.source === 'api' ? 'an API or dashboard edit' : `source ${by.source}`;
  return ` (${how} by ${by.actor ?? 'unknown'}${by.at ? ` at ${by.at.slice(0, 16).replace('T', ' ')} UTC` : ''})`;
}

/** `used 4000 this cycle; 1000 over the new budget 3000` for a budget change with a spend note. */
export function spendNote(c: Change): string | undefined {
  const s = c.spend;
  if (!s) return undefined;
  const over = s.remaining.startsWith('-');
  const left = over
    ? `${s.remaining.slice(1)} over the new budget ${s.budget}: blocked`
    : s.remaining === '0' && s.used !== '0'
      ? `nothing left of the new budget ${s.budget}: blocked`
      : `${s.remaining} left of ${s.budget}`;
  return `used ${s.used} this cycle; after the change ${left}`;
}

/** `CODE  message` for a warning. */
export const warningLine = (w: { code: string; message: string }): string => `${w.code}  ${w.message}`;

export function summaryLine(s: { create: number; update: number; delete: number; move: number }): string {
  return `Plan: ${s.create} to create, ${s.update} to update, ${s.move} to move, ${s.delete} to delete.`;
}

/** The section of alert changes: not a slug, so no group's section can be named so. */
export const ALERTS_SECTION = '(alerts)';

/** The group a change belongs to, for per-group sections: its own group, or the member's group. */
export function sectionOf(c: Change): string {
  const address = parseAddress(c.address, c.action);
  if (address?.kind === 'account') return 'account';
  if (address?.kind === 'group') return address.key;
  if (address?.kind === 'threshold' || address?.kind === 'webhook') return ALERTS_SECTION;
  const pick = (v: ChangeValue): string | undefined =>
    v && typeof v === 'object' && typeof v.group === 'string' ? v.group : undefined;
  if (c.group) return c.group;
  if (address?.kind === 'member' && address.field === 'group' && typeof c.after === 'string') return c.after;
  return pick(c.after) ?? pick(c.before) ?? 'default';
}
