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
    ? `changed outside credits.yaml: applied ${formatValue(c.drift.applied)}, now ${formatValue(c.before)}`
    : undefined;

export function summaryLine(s: { create: number; update: number; delete: number; move: number }): string {
  return `Plan: ${s.create} to create, ${s.update} to update, ${s.move} to move, ${s.delete} to delete.`;
}

/** The group a change belongs to, for per-group sections: its own group, or the member's group. */
export function sectionOf(c: Change): string {
  const address = parseAddress(c.address, c.action);
  if (address?.kind === 'account') return 'account';
  if (address?.kind === 'group') return address.key;
  const pick = (v: ChangeValue): string | undefined =>
    v && typeof v === 'object' && typeof v.group === 'string' ? v.group : undefined;
  if (c.group) return c.group;
  if (address?.field === 'group' && typeof c.after === 'string') return c.after;
  return pick(c.after) ?? pick(c.before) ?? 'default';
}
