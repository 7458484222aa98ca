// A member's own page (member token): remaining credits, use this cycle, when the cycle resets, grants and
// requests, and a form to ask for more. GET /v1/me in one call; POST /v1/requests for the form.
import { badge, h, setText, when } from './dom.js';
import { cmp, format, isAmount } from './decimal.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const LABELS = {
  pending: 'Pending',
  approved: 'Approved',
  denied: 'Denied',
  'auto-approved': 'Auto-Approved',
};
const KINDS = { pending: 'pending', approved: 'approved', 'auto-approved': 'approved', denied: 'denied' };

const min = (...values) => values.reduce((a, b) => (cmp(a, b) <= 0 ? a : b));

function resetsIn(end) {
  const left = new Date(end).getTime() - Date.now();
  if (left <= 0) return 'now';
  if (left < DAY_MS) return `in ${Math.max(1, Math.round(left / 3_600_000))} h`;
  return `in ${Math.round(left / DAY_MS)} days`;
}

const stat = (id, label, value, detail) =>
  h('div', { class: 'stat', dataset: { stat: id } }, [
    h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value' }, value),
    detail ? h('div', { class: 'stat-detail' }, detail) : null,
  ]);

/** The form: Amount and Reason, refused in place when they cannot be sent. */
function requestForm(ctx) {
  const amount = h('input', {
    id: 'request-amount',
    class: 'amount wide',
    type: 'text',
    inputmode: 'decimal',
    autocomplete: 'off',
    'aria-describedby': 'request-error',
  });
  const reason = h('textarea', {
    id: 'request-reason',
    rows: '3',
    maxlength: '2000',
    'aria-describedby': 'request-error',
  });
  const error = h('p', { class: 'error-text field-error', id: 'request-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Request credits');
  const form = h('form', { class: 'request-form', id: 'request-form', novalidate: true }, [
    h('label', { for: 'request-amount', class: 'field-label' }, 'Amount'),
    amount,
    h('label', { for: 'request-reason', class: 'field-label' }, 'Reason'),
    reason,
    error,
    h('div', { class: 'form-buttons' }, submit),
  ]);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = amount.value.trim();
    const why = reason.value.trim();
    const badAmount = !isAmount(value) || cmp(value, '0') <= 0;
    amount.setAttribute('aria-invalid', String(badAmount));
    reason.setAttribute('aria-invalid', String(!why));
    if (badAmount || !why) {
      setText(
        error,
        badAmount
          ? 'Enter an amount above 0 (digits, at most 6 decimal places).'
          : 'Say what the credits are for.',
      );
      (badAmount ? amount : reason).focus();
      return;
    }
    setText(error, '');
    submit.disabled = true;
    try {
      const made = await ctx.api('POST', ctx.paths.createRequest(), { amount: value, reason: why });
      ctx.notify(
        'ok',
        made.status === 'auto-approved'
          ? `Granted ${format(made.approvedAmount ?? value)} credits at once (auto-approved).`
          : `Requested ${format(value)} credits: an admin will decide.`,
      );
      await ctx.rerender();
    } catch (err) {
      submit.disabled = false;
      ctx.fail(err, 'The request was refused');
    }
  });
  return form;
}

export async function render(ctx) {
  const me = await ctx.api('GET', ctx.paths.me());
  setText(document.getElementById('account-name'), me.name ? `${me.name} (${me.email})` : me.email);
  const left = min(me.remaining.member, me.remaining.group, me.remaining.account);
  const limitedBy =
    cmp(left, me.remaining.member) === 0
      ? 'your own budget'
      : cmp(left, me.remaining.group) === 0
        ? `the ${me.group} group’s budget`
        : 'the account’s limit';

  const stats = h('div', { class: 'stats' }, [
    stat('remaining', 'Remaining', format(left), `credits you can still use, set by ${limitedBy}`),
    stat('used', 'Used this cycle', format(me.used), 'credits'),
    // Shown only when something rolled over into this cycle: it is spent first and expires at its end.
    cmp(me.rolledOver, '0') === 0
      ? null
      : stat(
          'rolled-over',
          'Rolled over',
          format(me.rolledOver),
          `unused credits of the last cycle, ${format(me.remaining.rolledOver ?? '0')} left; spent first, they expire when this cycle ends`,
        ),
    stat(
      'resets',
      'Cycle resets',
      when(me.cycle.end),
      `${resetsIn(me.cycle.end)} · cycle #${me.cycle.number}`,
    ),
    stat(
      'granted',
      'Granted this cycle',
      format(me.grants.total),
      `${me.grants.count} grant${me.grants.count === 1 ? '' : 's'}`,
    ),
  ]);

  const grants = h('table', { class: 'table', id: 'grants-table' }, [
    h(
      'thead',
      null,
      h('tr', null, [h('th', { scope: 'col' }, 'When'), h('th', { scope: 'col', class: 'num' }, 'Credits')]),
    ),
    h(
      'tbody',
      null,
      me.grants.recent.length
        ? me.grants.recent.map((g) =>
            h('tr', null, [
              h('td', { title: g.at }, when(g.at)),
              h('td', { class: 'num' }, format(g.credits)),
            ]),
          )
        : h('tr', null, h('td', { colspan: '2', class: 'empty' }, 'No grants this cycle.')),
    ),
  ]);

  const requests = h('table', { class: 'table', id: 'my-requests' }, [
    h(
      'thead',
      null,
      h('tr', null, [
        h('th', { scope: 'col' }, 'Date'),
        h('th', { scope: 'col', class: 'num' }, 'Requested'),
        h('th', { scope: 'col', class: 'num' }, 'Approved'),
        h('th', { scope: 'col' }, 'Reason'),
        h('th', { scope: 'col' }, 'Status'),
      ]),
    ),
    h(
      'tbody',
      null,
      me.requests.recent.length
        ? me.requests.recent.map((r) =>
            h('tr', { dataset: { request: r.id, status: r.status } }, [
              h('td', { title: r.createdAt }, when(r.createdAt)),
              h('td', { class: 'num' }, format(r.amount)),
              h('td', { class: 'num' }, r.approvedAmount === null ? '—' : format(r.approvedAmount)),
              h('td', { class: 'reason' }, [
                h('div', null, r.reason),
                r.decisionReason ? h('div', { class: 'sub' }, `Decision: ${r.decisionReason}`) : null,
              ]),
              h('td', null, badge(LABELS[r.status] ?? r.status, KINDS[r.status] ?? 'pending')),
            ]),
          )
        : h('tr', null, h('td', { colspan: '5', class: 'empty' }, 'No requests yet.')),
    ),
  ]);

  return h('div', { class: 'tab-member' }, [
    h('h1', { class: 'page-title' }, 'Your credits'),
    stats,
    h('div', { class: 'member-grid' }, [
      h('section', { class: 'card' }, [
        h('h2', null, 'Request more credits'),
        h(
          'p',
          { class: 'hint' },
          'An admin approves or denies it; some groups grant small requests at once.',
        ),
        requestForm(ctx),
      ]),
      h('section', { class: 'card' }, [
        h('h2', { id: 'grants-title' }, 'Grants this cycle'),
        h(
          'div',
          { class: 'scroll', tabindex: '0', role: 'region', 'aria-labelledby': 'grants-title' },
          grants,
        ),
      ]),
    ]),
    h('section', { class: 'card' }, [
      h('h2', { id: 'my-requests-title' }, 'Your requests'),
      h(
        'div',
        { class: 'scroll', tabindex: '0', role: 'region', 'aria-labelledby': 'my-requests-title' },
        requests,
      ),
    ]),
  ]);
}
