// Overview tab: the cycle, the account's limit, usage and balance, the latest alerts, each group's allocation.
import { h, when } from './dom.js';
import { add, cmp, format, percent } from './decimal.js';
import { usageChart } from './chart.js';
import { alertsSection } from './alerts.js';

const DAY_MS = 24 * 60 * 60 * 1000;

function cycleStatus(cycle) {
  const end = new Date(cycle.end).getTime();
  const left = end - Date.now();
  if (left <= 0) return 'Ended';
  if (left < DAY_MS) return `Active, ends in ${Math.max(1, Math.round(left / 3_600_000))} h`;
  return `Active, ends in ${Math.round(left / DAY_MS)} days`;
}

const stat = (label, value, detail, extra) =>
  h('div', { class: 'stat', dataset: { stat: label.toLowerCase().replace(/\W+/g, '-') } }, [
    h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value' }, value),
    detail ? h('div', { class: 'stat-detail' }, detail) : null,
    extra,
  ]);

function meter(value, label) {
  const clamped = cmp(value, '100') > 0 ? '100' : cmp(value, '0') < 0 ? '0' : value;
  return h('progress', { max: '100', value: clamped, 'aria-label': label, class: 'meter' });
}

export async function render(ctx) {
  const ov = await ctx.api('GET', ctx.paths.overview());
  const [chart, alerts] = await Promise.all([usageChart(ctx, ov), alertsSection(ctx, ov.groups)]);
  ctx.setAccount(ov.account);
  const c = ov.cycle;
  const over = cmp(ov.balance, '0') < 0;

  const stats = h('div', { class: 'stats' }, [
    stat(
      'Cycle',
      `#${c.number} · ${cycleStatus(c)}`,
      `${when(c.start)} – ${when(c.end)} · ${c.cadence} (${c.timezone})`,
    ),
    stat('Credit limit', format(ov.creditLimit), 'credits per cycle'),
    stat('Used', format(ov.used), `${format(ov.reserved)} reserved`),
    stat('Balance', format(ov.balance), over ? 'over the limit: usage is blocked' : 'left this cycle'),
    stat('Usage', `${ov.usagePercent}%`, 'of the credit limit', meter(ov.usagePercent, 'Account usage')),
  ]);

  const rows = ov.groups.map((g) => {
    const budget = add(g.allocation, g.extra);
    const usedPct = percent(g.used, budget);
    return h('tr', { dataset: { group: g.key } }, [
      h('th', { scope: 'row' }, [h('div', null, g.name), h('div', { class: 'sub' }, g.key)]),
      h('td', { class: 'num' }, String(g.members)),
      h('td', { class: 'num' }, format(g.allocation)),
      h('td', { class: 'num' }, format(g.extra)),
      h('td', { class: 'num' }, format(g.distributed)),
      h('td', { class: 'num' }, format(g.used)),
      h('td', { class: 'num' }, format(g.available)),
      // What of the pool rolled over into this cycle (the group's rollover), as on Allocations.
      h('td', { class: 'num' }, format(g.rolledOver ?? '0')),
      h('td', { class: 'num' }, `${format(g.autoApproveLeft)} / ${format(g.autoApprove)}`),
      h(
        'td',
        null,
        h('div', { class: 'meter-cell' }, [
          meter(usedPct, `${g.name} usage`),
          h('span', null, `${usedPct}%`),
        ]),
      ),
    ]);
  });
  const totals = (field) => format(add(...ov.groups.map((g) => g[field] ?? '0')));
  const table = h('table', { class: 'table', id: 'overview-groups' }, [
    h(
      'thead',
      null,
      h('tr', null, [
        h('th', { scope: 'col' }, 'Group'),
        h('th', { scope: 'col', class: 'num' }, 'Members'),
        h('th', { scope: 'col', class: 'num' }, 'Monthly'),
        h('th', { scope: 'col', class: 'num' }, 'Extra'),
        h('th', { scope: 'col', class: 'num' }, 'Distributed'),
        h('th', { scope: 'col', class: 'num' }, 'Used'),
        h('th', { scope: 'col', class: 'num' }, 'Available'),
        h('th', { scope: 'col', class: 'num' }, 'Rolled over'),
        h('th', { scope: 'col', class: 'num' }, 'Auto-approve left'),
        h('th', { scope: 'col' }, 'Usage of budget'),
      ]),
    ),
    h('tbody', null, rows),
    h(
      'tfoot',
      null,
      h('tr', null, [
        h('th', { scope: 'row' }, 'Total'),
        h('td', { class: 'num' }, String(ov.groups.reduce((n, g) => n + g.members, 0))),
        h('td', { class: 'num' }, totals('allocation')),
        h('td', { class: 'num' }, totals('extra')),
        h('td', { class: 'num' }, totals('distributed')),
        h('td', { class: 'num' }, totals('used')),
        h('td', { class: 'num' }, totals('available')),
        h('td', { class: 'num' }, totals('rolledOver')),
        h('td', { class: 'num' }, totals('autoApproveLeft')),
        h('td'),
      ]),
    ),
  ]);

  return h('div', { class: 'tab-overview' }, [
    stats,
    h('section', { class: 'card' }, [h('h2', null, 'Usage this cycle'), chart]),
    alerts,
    h('section', { class: 'card' }, [
      h('h2', null, 'Allocation by group'),
      h(
        'div',
        { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': 'Allocation by group table' },
        table,
      ),
    ]),
  ]);
}
