// Activity tab: the audit log in the API's order (oldest first), 25 a page: who changed what, when and from where (credits
// apply with its commit, or an edit through the API such as this dashboard), filtered by source, actor and
// date range. GET /v1/audit.
import { h, when, pagerControls } from './dom.js';

const PAGE_SIZE = 25;
const SOURCES = [
  ['', 'All sources'],
  ['apply', 'credits apply'],
  ['api', 'Dashboard / API edit'],
];
const view = { source: '', actor: '', from: '', to: '', cursors: [null], page: 0 };

/** Back to the first page, unfiltered (another token, perhaps another account). */
export function reset() {
  Object.assign(view, { source: '', actor: '', from: '', to: '', cursors: [null], page: 0 });
}

/** A stored before/after value as one line: JSON text, or — when there was none. */
const shown = (v) => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

function auditPath(cursor) {
  const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (view.source) q.set('source', view.source);
  if (view.actor) q.set('actor', view.actor);
  // Dates are days in the browser's time zone: from its first instant to the next day's first.
  if (view.from) q.set('from', new Date(`${view.from}T00:00:00`).toISOString());
  if (view.to) {
    const next = new Date(`${view.to}T00:00:00`);
    next.setDate(next.getDate() + 1);
    q.set('to', next.toISOString());
  }
  if (cursor) q.set('cursor', cursor);
  return `/v1/audit?${q}`;
}

function where(e) {
  if (e.source === 'apply')
    return e.commitSha ? `credits apply @ ${e.commitSha.slice(0, 12)}` : 'credits apply';
  if (e.source === 'api') return 'Dashboard / API';
  return e.source;
}

export async function render(ctx) {
  const source = h(
    'select',
    { id: 'audit-source' },
    SOURCES.map(([value, label]) => h('option', { value, selected: value === view.source }, label)),
  );
  const actor = h('input', {
    id: 'audit-actor',
    type: 'search',
    placeholder: 'token:… or a name',
    value: view.actor,
  });
  const from = h('input', { id: 'audit-from', type: 'date', value: view.from });
  const to = h('input', { id: 'audit-to', type: 'date', value: view.to });
  const box = h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': 'Audit log table' });
  const pager = h('div', { class: 'pager' });
  const count = h('p', { class: 'hint', id: 'audit-count', 'aria-live': 'polite' });

  const restart = () => {
    view.cursors = [null];
    view.page = 0;
    draw().catch((err) => ctx.fail(err, 'Loading the audit log failed'));
  };
  source.addEventListener('change', () => {
    view.source = source.value;
    restart();
  });
  let timer;
  actor.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      view.actor = actor.value.trim();
      restart();
    }, 300);
  });
  from.addEventListener('change', () => {
    view.from = from.value;
    restart();
  });
  to.addEventListener('change', () => {
    view.to = to.value;
    restart();
  });

  let loads = 0;
  async function draw() {
    const load = ++loads;
    const data = await ctx.api('GET', auditPath(view.cursors[view.page]));
    if (load !== loads) return;
    view.cursors[view.page + 1] = data.nextCursor;
    const rows = data.items.map((e) =>
      h('tr', { dataset: { audit: e.id, source: e.source } }, [
        h('td', { title: e.at }, when(e.at)),
        h('td', { class: 'actor' }, e.actor),
        h('td', null, [h('div', null, where(e)), h('div', { class: 'sub' }, `serial ${e.serial}`)]),
        h('td', { class: 'address' }, [h('code', null, e.address), h('div', { class: 'sub' }, e.action)]),
        h('td', { class: 'change' }, `${shown(e.before)} → ${shown(e.after)}`),
      ]),
    );
    box.replaceChildren(
      h('table', { class: 'table', id: 'audit-table' }, [
        h(
          'thead',
          null,
          h('tr', null, [
            h('th', { scope: 'col' }, 'When'),
            h('th', { scope: 'col' }, 'Who'),
            h('th', { scope: 'col' }, 'From where'),
            h('th', { scope: 'col' }, 'What'),
            h('th', { scope: 'col' }, 'Change'),
          ]),
        ),
        h(
          'tbody',
          null,
          rows.length ? rows : h('tr', null, h('td', { colspan: '5', class: 'empty' }, 'No changes.')),
        ),
      ]),
    );
    count.textContent = `Page ${view.page + 1}: ${rows.length} change${rows.length === 1 ? '' : 's'}, oldest first.`;
    pager.replaceChildren(
      ...pagerControls({
        first: view.page === 0,
        hasNext: Boolean(data.nextCursor),
        label: h('span', { id: 'audit-page' }, `Page ${view.page + 1}`),
        go: (step) => {
          view.page += step;
          draw().catch((err) => ctx.fail(err, 'Loading the audit log failed'));
        },
      }),
    );
  }

  await draw();
  return h('div', { class: 'tab-activity' }, [
    h('section', { class: 'card' }, [
      h('div', { class: 'card-head' }, [
        h('h2', null, 'Activity'),
        h('div', { class: 'filters' }, [
          h('label', { for: 'audit-source', class: 'inline-label' }, 'Source'),
          source,
          h('label', { for: 'audit-actor', class: 'inline-label' }, 'Actor'),
          actor,
          h('label', { for: 'audit-from', class: 'inline-label' }, 'From'),
          from,
          h('label', { for: 'audit-to', class: 'inline-label' }, 'To'),
          to,
        ]),
      ]),
      h(
        'p',
        { class: 'hint' },
        'Every change to the account’s declared state: by credits apply (with its commit) or by an edit through the API, such as this dashboard.',
      ),
      count,
      box,
      pager,
    ]),
  ]);
}
