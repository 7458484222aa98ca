// Requests tab: members' requests for more credits, a page at a time, filtered by status and searched by
// requester (name or e-mail), group or reason. Selecting a pending row reveals Approve (perhaps for less than
// asked) and Deny (with a reason, in a dialog).
import { badge, h, when, pagerControls } from './dom.js';
import { cmp, format, isAmount } from './decimal.js';

const PAGE_SIZE = 20;
/** API page size while searching: the API cannot search requests, so pages are scanned here. */
const SCAN_SIZE = 200;
const STATUSES = [
  ['', 'All Statuses'],
  ['pending', 'Pending'],
  ['approved', 'Approved'],
  ['denied', 'Denied'],
  ['auto-approved', 'Auto-Approved'],
];
const LABELS = Object.fromEntries(STATUSES);
const KINDS = { pending: 'pending', approved: 'approved', 'auto-approved': 'approved', denied: 'denied' };

// Survives tab switches and Refresh. A position is where a page starts: an API cursor and how many of that
// API page's items come before it (not 0 only while searching).
const START = { cursor: null, skip: 0 };
const view = { status: '', search: '', positions: [START], page: 0, selected: null };
/** e-mail → name (or null): the request rows carry the e-mail only. */
const names = new Map();

/** Back to the first page of All (another token, perhaps another account). */
export function reset() {
  Object.assign(view, { status: '', search: '', positions: [START], page: 0, selected: null });
  names.clear();
}

/** Every page of a members list (limit 500), for the e-mails whose member name matches a search. */
async function allMembers(ctx, key, search) {
  const emails = [];
  let cursor;
  do {
    const page = await ctx.api('GET', ctx.paths.members(key, { search, cursor, limit: 500 }));
    emails.push(...page.items.map((m) => m.email));
    cursor = page.nextCursor;
  } while (cursor);
  return emails;
}

/** The e-mails of members whose name or e-mail contains `term` (the members route searches both). */
async function membersMatching(ctx, term) {
  const groups = await ctx.list(ctx.paths.groups());
  const lists = await Promise.all(groups.map((g) => allMembers(ctx, g.key, term)));
  return new Set(lists.flat());
}

/** One page of requests from `pos`: { items, next } with next the position of the page after, or null. */
async function loadPage(ctx, pos) {
  if (!view.search) {
    const res = await ctx.api(
      'GET',
      ctx.paths.requests({ status: view.status, cursor: pos.cursor, limit: PAGE_SIZE }),
    );
    return { items: res.items, next: res.nextCursor ? { cursor: res.nextCursor, skip: 0 } : null };
  }
  const term = view.search.toLowerCase();
  const members = await membersMatching(ctx, view.search);
  const matches = (r) =>
    members.has(r.member) ||
    r.member.toLowerCase().includes(term) ||
    r.group.toLowerCase().includes(term) ||
    r.reason.toLowerCase().includes(term);
  const items = [];
  let { cursor, skip } = pos;
  for (;;) {
    const res = await ctx.api('GET', ctx.paths.requests({ status: view.status, cursor, limit: SCAN_SIZE }));
    for (let i = skip; i < res.items.length; i++) {
      if (!matches(res.items[i])) continue;
      if (items.length === PAGE_SIZE) return { items, next: { cursor, skip: i } };
      items.push(res.items[i]);
    }
    if (!res.nextCursor) return { items, next: null };
    cursor = res.nextCursor;
    skip = 0;
  }
}

/** Names of the requesters on a page, one GET /v1/members/:email per e-mail not yet known. */
async function loadNames(ctx, items) {
  const unknown = [...new Set(items.map((r) => r.member))].filter((e) => !names.has(e));
  await Promise.all(
    unknown.map(async (email) => {
      try {
        names.set(email, (await ctx.api('GET', ctx.paths.member(email))).name);
      } catch {
        names.set(email, null);
      }
    }),
  );
}

/** The row under a selected pending request: the amount to approve, Approve and Deny. */
function actionsRow(ctx, r, reload) {
  const amountId = `approve-amount-${r.id}`;
  const amount = h('input', {
    id: amountId,
    class: 'amount',
    type: 'text',
    inputmode: 'decimal',
    autocomplete: 'off',
    value: r.amount,
    'aria-describedby': `approve-hint-${r.id}`,
  });
  const approve = h('button', { type: 'button', class: 'button approve' }, 'Approve');
  const deny = h('button', { type: 'button', class: 'button deny' }, 'Deny');
  const error = h('span', { class: 'error-text field-error', role: 'alert' });
  const busy = (on) => {
    approve.disabled = on;
    deny.disabled = on;
    amount.disabled = on;
  };
  const who = names.get(r.member) ? `${names.get(r.member)} (${r.member})` : r.member;
  approve.addEventListener('click', async () => {
    const value = amount.value.trim();
    if (!isAmount(value) || cmp(value, '0') <= 0 || cmp(value, r.amount) > 0) {
      amount.setAttribute('aria-invalid', 'true');
      error.textContent = `Enter an amount above 0 and at most ${format(r.amount)}.`;
      return;
    }
    amount.setAttribute('aria-invalid', 'false');
    error.textContent = '';
    busy(true);
    try {
      const done = await ctx.api(
        'POST',
        ctx.paths.approve(r.id),
        cmp(value, r.amount) === 0 ? {} : { amount: value },
      );
      ctx.notify('ok', `Approved ${format(done.approvedAmount ?? value)} credits for ${done.member}.`);
      view.selected = null;
      await reload();
    } catch (err) {
      busy(false);
      ctx.fail(err, 'Approval failed');
    }
  });
  deny.addEventListener('click', async () => {
    const reason = await ctx.prompt({
      title: 'Deny this request?',
      body: `${who} asked for ${format(r.amount)} credits: “${r.reason}”. The reason is kept with the decision.`,
      label: 'Reason',
      ok: 'Deny',
      danger: true,
    });
    if (reason === null) return;
    busy(true);
    try {
      const done = await ctx.api('POST', ctx.paths.deny(r.id), reason ? { reason } : {});
      ctx.notify('ok', `Denied the request of ${done.member} for ${format(done.amount)} credits.`);
      view.selected = null;
      await reload();
    } catch (err) {
      busy(false);
      ctx.fail(err, 'Denial failed');
    }
  });
  return h('tr', { class: 'request-actions', dataset: { actionsFor: r.id } }, [
    h('td', { colspan: '6' }, [
      h('div', { class: 'row-actions' }, [
        h('label', { for: amountId }, 'Amount to approve'),
        amount,
        approve,
        deny,
        h(
          'span',
          { class: 'hint', id: `approve-hint-${r.id}` },
          `at most ${format(r.amount)}; less is allowed`,
        ),
        error,
      ]),
    ]),
  ]);
}

export async function render(ctx) {
  const status = h(
    'select',
    { id: 'request-status' },
    STATUSES.map(([value, label]) => h('option', { value, selected: value === view.status }, label)),
  );
  const search = h('input', {
    id: 'request-search',
    type: 'search',
    placeholder: 'Search requester, group or reason…',
    'aria-label': 'Search requests',
    value: view.search,
  });
  const count = h('p', { class: 'hint', id: 'requests-count', 'aria-live': 'polite' });
  const box = h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': 'Requests table' });
  const pager = h('div', { class: 'pager' });

  const restart = () => {
    view.positions = [START];
    view.page = 0;
    view.selected = null;
    return draw();
  };
  status.addEventListener('change', () => {
    view.status = status.value;
    restart().catch((err) => ctx.fail(err, 'Loading requests failed'));
  });
  let timer;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      view.search = search.value.trim();
      restart().catch((err) => ctx.fail(err, 'Loading requests failed'));
    }, 250);
  });

  let loads = 0;
  async function draw() {
    const load = ++loads;
    box.setAttribute('aria-busy', 'true');
    try {
      const { items, next } = await loadPage(ctx, view.positions[view.page]);
      await loadNames(ctx, items);
      if (load !== loads) return;
      view.positions[view.page + 1] = next;
      if (!items.some((r) => r.id === view.selected)) view.selected = null;
      box.replaceChildren(table(items));
      const filtered = view.status ? `${LABELS[view.status].toLowerCase()} ` : '';
      count.textContent =
        `Page ${view.page + 1}: ${items.length} ${filtered}request${items.length === 1 ? '' : 's'}` +
        `${view.search ? ` matching “${view.search}”` : ''}. Select a pending request to approve or deny it.`;
      pager.replaceChildren(
        ...pagerControls({
          first: view.page === 0,
          hasNext: Boolean(next),
          label: h('span', { id: 'requests-page' }, `Page ${view.page + 1}`),
          go: (step) => {
            view.page += step;
            draw().catch((err) => ctx.fail(err, 'Loading requests failed'));
          },
        }),
      );
    } finally {
      if (load === loads) box.removeAttribute('aria-busy');
    }
  }

  function table(items) {
    const rows = [];
    for (const r of items) {
      const select = () => {
        view.selected = view.selected === r.id ? null : r.id;
        box.replaceChildren(table(items));
        box.querySelector(`tr[data-request="${r.id}"]`)?.focus();
      };
      const name = names.get(r.member);
      const selected = view.selected === r.id;
      rows.push(
        h(
          'tr',
          {
            class: `selectable${selected ? ' selected' : ''}`,
            tabindex: '0',
            'aria-current': selected ? 'true' : undefined,
            dataset: { request: r.id, status: r.status },
            onclick: select,
            onkeydown: (e) => {
              if (e.key !== 'Enter' && e.key !== ' ') return;
              e.preventDefault();
              select();
            },
          },
          [
            h('th', { scope: 'row' }, [
              h('div', { class: 'requester-name' }, name ?? r.member),
              h('div', { class: 'sub requester-email' }, name ? r.member : ''),
              h('div', { class: 'sub' }, r.group),
            ]),
            h('td', { class: 'num' }, format(r.amount)),
            h('td', { class: 'num' }, r.approvedAmount === null ? '—' : format(r.approvedAmount)),
            h('td', { class: 'reason' }, [
              h('div', null, r.reason),
              r.decisionReason ? h('div', { class: 'sub' }, `Decision: ${r.decisionReason}`) : null,
            ]),
            h('td', { title: r.createdAt }, when(r.createdAt)),
            h('td', null, badge(LABELS[r.status] ?? r.status, KINDS[r.status] ?? 'pending')),
          ],
        ),
      );
      if (selected && r.status === 'pending') rows.push(actionsRow(ctx, r, draw));
    }
    return h('table', { class: 'table', id: 'requests-table' }, [
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
        ]),
      ),
      h(
        'tbody',
        null,
        rows.length ? rows : h('tr', null, h('td', { colspan: '6', class: 'empty' }, 'No requests.')),
      ),
    ]);
  }

  await draw();
  return h('div', { class: 'tab-requests' }, [
    h('section', { class: 'card' }, [
      h('div', { class: 'card-head' }, [
        h('h2', null, 'Requests'),
        h('div', { class: 'filters' }, [
          h('label', { for: 'request-status', class: 'inline-label' }, 'Status'),
          status,
          search,
        ]),
      ]),
      count,
      box,
      pager,
    ]),
  ]);
}
