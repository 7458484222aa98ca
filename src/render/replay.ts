// Views of a replay (src/plan/replay.ts): lines for the terminal, a section for the pull-request comment.
import type { Replay, ReplayOutcome } from '../plan/replay.js';

/** At most this many members are listed; the rest are counted. */
export const REPLAY_MEMBERS_SHOWN = 25;

const day = (iso: string | null): string => (iso ? iso.slice(0, 16).replace('T', ' ') + ' UTC' : '—');
const name = (o: ReplayOutcome): string =>
  o.scope === 'account' ? 'account' : o.scope.slice(o.scope.indexOf(':') + 1);

function headline(r: Replay): string {
  const cycle = `cycle ${r.cycle.cycleNo} (${day(r.cycle.startsAt)} – ${day(r.cycle.endsAt)})`;
  if (r.trackingOff)
    return `Replay of ${cycle}: tracking is off (credit factor 0), nothing would be refused.`;
  if (r.refused === '0')
    return `Replay of ${cycle}: its ${r.used} credits of usage all fit the proposed budgets.`;
  const n = r.members.length;
  return (
    `Replay of ${cycle}: ${r.refused} of its ${r.used} credits would have been refused; ` +
    `${n} member${n === 1 ? '' : 's'} blocked` +
    (r.groups.length ? `, ${r.groups.length} group${r.groups.length === 1 ? '' : 's'} exhausted` : '') +
    (r.account.blockedFrom ? ', the account limit reached' : '') +
    '.'
  );
}

const budgets = (o: ReplayOutcome): string =>
  `used ${o.used} of ${o.actualBudget ?? '?'} in that cycle; proposed ${o.proposedBudget}`;

export function renderReplayHuman(r: Replay): string {
  const out = [headline(r)];
  if (r.account.blockedFrom)
    out.push(
      `  account: refused ${r.account.refused} from ${day(r.account.blockedFrom)} (${budgets(r.account)})`,
    );
  for (const g of r.groups)
    out.push(`  group ${name(g)}: refused ${g.refused} from ${day(g.blockedFrom)} (${budgets(g)})`);
  for (const m of r.members.slice(0, REPLAY_MEMBERS_SHOWN))
    out.push(
      `  ${name(m)}: blocked by ${m.blockedBy} from ${day(m.blockedFrom)}, refused ${m.refused} (${budgets(m)})`,
    );
  if (r.members.length > REPLAY_MEMBERS_SHOWN)
    out.push(`  … and ${r.members.length - REPLAY_MEMBERS_SHOWN} more members`);
  return out.join('\n') + '\n';
}

export function renderReplayMarkdown(r: Replay): string {
  const out = ['#### Replay of the last cycle', '', headline(r), ''];
  const rows = [
    ...(r.account.blockedFrom ? [r.account] : []),
    ...r.groups,
    ...r.members.slice(0, REPLAY_MEMBERS_SHOWN),
  ];
  if (rows.length) {
    out.push(
      '| who | blocked by | from | refused | used then | budget then | proposed |',
      '| --- | --- | --- | ---: | ---: | ---: | ---: |',
    );
    for (const o of rows) {
      const who =
        o.scope === 'account' ? 'account' : o.scope.startsWith('group:') ? `group \`${name(o)}\`` : name(o);
      out.push(
        `| ${who} | ${o.blockedBy ?? ''} | ${day(o.blockedFrom)} | ${o.refused} | ${o.used} | ${o.actualBudget ?? '?'} | ${o.proposedBudget} |`,
      );
    }
    if (r.members.length > REPLAY_MEMBERS_SHOWN)
      out.push('', `… and ${r.members.length - REPLAY_MEMBERS_SHOWN} more members.`);
    out.push('');
  }
  out.push(
    '<sub>The previous cycle’s recorded usage, hour by hour, against the budgets of this change; grants made ' +
      'during that cycle count from its start.</sub>',
    '',
  );
  return out.join('\n');
}
