// Requests tab: members' requests for more credits, filtered by status, approved (perhaps for less than
// asked) or denied by the admin.
import { badge, h, when } from './dom.js';
import { cmp, format, isAmount } from './decimal.js';

const FILTERS = [
  ['', 'All'],
  ['pending', 'Pending'],
  ['approved', 'Approved'],
  ['denied', 'Denied'],
  ['auto-approved', 'Auto-Approved'],
];
const LABELS = Object.fromEntries(FILTERS);
const KINDS = { pending: 'pending', approved: 'approved', 'auto-approved': 'approved', denied: 'denied' };

const view = { status: '' };

/** Back to All (another token, perhaps another account). */
export function reset() {
  view.status = '';
}

function actions(ctx, r) {
  const amount = h('input', {
    class: 'amount',
    type: 'text',
    inputmode: 'decimal',
    value: r.amount,
    'aria-label': `Amount to approve for ${r.member}`,
    title: 'An approval may grant less than requested',
  });
  const approve = h('button', { type: 'button', class: 'button small approve' }, 'Approve');
  const deny = h('button', { type: 'button', class: 'button small deny' }, 'Deny');
  const busy = (on) => {
    approve.disabled = on;
    deny.disabled = on;
    amount.disabled = on;
  };
  approve.addEventListener('click', async () => {
    const value = amount.value.trim();
    if (!isAmount(value) || cmp(value, '0') <= 0 || cmp(value, r.amount) > 0) {
      amount.setAttribute('aria-invalid', 'true');
      ctx.notify('error', 'Not approved', `Enter an amount above 0 and at most ${format(r.amount)}.`);
      return;
    }
    busy(true);
    try {
      const done = await ctx.api(
        'POST',
        ctx.paths.approve(r.id),
        cmp(value, r.amount) === 0 ? {} : { amount: value },
      );
      ctx.notify('ok', `Approved ${format(done.approvedAmount ?? value)} credits for ${done.member}.`);
      await ctx.rerender();
    } catch (err) {
      busy(false);
      ctx.fail(err, 'Approval failed');
    }
  });
  deny.addEventListener('click', async () => {
    busy(true);
    try {
      const done = await ctx.api('POST', ctx.paths.deny(r.id), {});
      ctx.notify('ok', `Denied the request of ${done.member} for ${format(done.amount)} credits.`);
      await ctx.rerender();
    } catch (err) {
      busy(false);
      ctx.fail(err, 'Denial failed');
    }
  });
  return h('div', { class: 'row-actions' }, [amount, approve, deny]);
}

export async function render(ctx) {
  const list = await ctx.list(ctx.paths.requests(view.status || undefined));

  const filters = h(
    'div',
    { class: 'segmented', role: 'group', 'aria-label': 'Status filter', id: 'request-filter' },
    FILTERS.map(([status, label]) =>
      h(
        'button',
        {
          type: 'button',
          class: 'segment',
          'aria-pressed': String(view.status === status),
          dataset: { status: status || 'all' },
          onclick: () => {
            view.status = status;
            ctx.rerender();
          },
        },
        label,
      ),
    ),
  );

  const rows = list.map((r) =>
    h('tr', { dataset: { request: r.id, status: r.status } }, [
      h('th', { scope: 'row' }, [h('div', null, r.member), h('div', { class: 'sub' }, r.group)]),
      h('td', { class: 'num' }, format(r.amount)),
      h('td', { class: 'num' }, r.approvedAmount === null ? '—' : format(r.approvedAmount)),
      h('td', { class: 'reason' }, [
        h('div', null, r.reason),
        r.decisionReason ? h('div', { class: 'sub' }, `Decision: ${r.decisionReason}`) : null,
      ]),
      h('td', { title: r.createdAt }, when(r.createdAt)),
      h('td', null, badge(LABELS[r.status] ?? r.status, KINDS[r.status] ?? 'pending')),
      h('td', null, r.status === 'pending' ? actions(ctx, r) : null),
    ]),
  );
  const table = h('table', { class: 'table', id: 'requests-table' }, [
    h(
      'thead',
      null,
      h('tr', null, [
        h('th', { scope: 'col' }, 'Requester'),
        h('th', { scope: 'col', class: 'num' }, 'Requested'),
        h('th', { scope: 'col', class: 'num' }, 'Approved'),
        h('th', { scope: 'col' }, 'Reason'),
        h('th', { scope: 'col' }, 'Date'),
        h('th', { scope: 'col' }, 'Status'),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
      ]),
    ),
    h(
      'tbody',
      null,
      rows.length ? rows : h('tr', null, h('td', { colspan: '7', class: 'empty' }, 'No requests.')),
    ),
  ]);

  return h('div', { class: 'tab-requests' }, [
    h('section', { class: 'card' }, [
      h('div', { class: 'card-head' }, [h('h2', null, 'Requests'), filters]),
      h(
        'p',
        { class: 'hint', id: 'requests-count' },
        `${list.length} ${view.status ? LABELS[view.status].toLowerCase() + ' ' : ''}request${list.length === 1 ? '' : 's'}. ` +
          'An approved amount is a grant for the current cycle.',
      ),
      h('div', { class: 'scroll' }, table),
    ]),
  ]);
}
