// Allocations tab: groups (Monthly, Extra, Distributed, Available, Auto-Approve) and the members of one
// group, both editable inline. Edits wait as "Unsaved" with totals recalculated exactly (decimal.js) until
// Save sends them as PATCHes; they are declared fields, so each saved edit is drift from credits.yaml.
import { badge, declaredNotice, declaredTag, h, setText } from './dom.js';
import { add, cmp, format, isAmount, sub } from './decimal.js';

const PAGE_SIZE = 10;
const INVALID = Symbol('invalid');

// Survives tab switches and Refresh: which group's members are shown, and the edits not yet saved.
const view = { group: undefined, search: '', page: 1, cursors: [] };
const pending = {
  /** group key → { allocation?, extra?, autoApprove? } (new values) */
  groups: new Map(),
  /** e-mail → { group, orig: { allocation, extra }, allocation? (string | null = pool), extra? } */
  members: new Map(),
  /** "group:eng:extra" → true while that input holds something that is not an amount */
  invalid: new Set(),
};
let saving = false;

/** Forgets the shown group and the unsaved edits (another token, perhaps another account). */
export function reset() {
  Object.assign(view, { group: undefined, search: '', page: 1, cursors: [] });
  pending.groups.clear();
  pending.members.clear();
  pending.invalid.clear();
}

const same = (a, b) => (a === null || b === null ? a === b : cmp(a, b) === 0);
const memberBudget = (allocation, extra) => add(allocation ?? '0', extra);
const changeCount = () =>
  [...pending.groups.values()].reduce((n, p) => n + Object.keys(p).length, 0) +
  [...pending.members.values()].reduce((n, p) => n + ('allocation' in p ? 1 : 0) + ('extra' in p ? 1 : 0), 0);

/** An inline amount editor; `onValue` gets the new value, null (empty, where allowed) or INVALID. */
function amountInput(value, label, onValue, { nullable = false, disabled = false } = {}) {
  const input = h('input', {
    class: 'amount',
    type: 'text',
    inputmode: 'decimal',
    autocomplete: 'off',
    spellcheck: 'false',
    value: value ?? '',
    placeholder: nullable ? 'pool' : '0',
    'aria-label': label,
    disabled,
  });
  input.addEventListener('input', () => {
    const text = input.value.trim();
    const next = text === '' && nullable ? null : isAmount(text) ? text : INVALID;
    input.setAttribute('aria-invalid', String(next === INVALID));
    onValue(next);
  });
  return input;
}

/** Records one edited field against its original value; an edit back to the original is no edit. */
function record(map, id, field, value, original, invalidKey, extra = {}) {
  if (value === INVALID) {
    pending.invalid.add(invalidKey);
    return;
  }
  pending.invalid.delete(invalidKey);
  const entry = map.get(id) ?? { ...extra };
  if (same(value, original)) delete entry[field];
  else entry[field] = value;
  const hasEdits = Object.keys(entry).some((k) => k !== 'group' && k !== 'orig');
  if (hasEdits) map.set(id, entry);
  else map.delete(id);
}

/** A group's figures with the unsaved edits applied: Distributed and Available move with every edit. */
function preview(g) {
  const p = pending.groups.get(g.key) ?? {};
  const allocation = p.allocation ?? g.allocation;
  const extra = p.extra ?? g.extra;
  const autoApprove = p.autoApprove ?? g.autoApprove;
  let memberDelta = '0';
  for (const m of pending.members.values()) {
    if (m.group !== g.key) continue;
    const before = memberBudget(m.orig.allocation, m.orig.extra);
    const after = memberBudget('allocation' in m ? m.allocation : m.orig.allocation, m.extra ?? m.orig.extra);
    memberDelta = add(memberDelta, sub(after, before));
  }
  const budgetDelta = add(sub(allocation, g.allocation), sub(extra, g.extra));
  return {
    allocation,
    extra,
    autoApprove,
    distributed: add(g.distributed, memberDelta),
    available: sub(add(g.available, budgetDelta), memberDelta),
  };
}

function computedCell(cell, value, original) {
  setText(cell, format(value));
  const changed = !same(value, original);
  cell.classList.toggle('changed', changed);
  if (changed) cell.title = `saved value: ${format(original)}`;
  else cell.removeAttribute('title');
}

export async function render(ctx) {
  const [groups, ov] = await Promise.all([
    ctx.list(ctx.paths.groups()),
    ctx.api('GET', ctx.paths.overview()),
  ]);
  ctx.setAccount(ov.account);
  if (!groups.some((g) => g.key === view.group)) {
    view.group = groups[0]?.key;
    view.page = 1;
    view.search = '';
  }
  const locked = ctx.state.managedByGit;

  // --- groups table ------------------------------------------------------------------------------------
  const groupRows = groups.map((g) => {
    const cells = { distributed: h('td', { class: 'num' }), available: h('td', { class: 'num' }) };
    const status = h('td', { class: 'status' });
    const p = pending.groups.get(g.key) ?? {};
    const input = (field, label) =>
      amountInput(
        p[field] ?? g[field],
        `${label} of ${g.name}`,
        (v) => {
          record(pending.groups, g.key, field, v, g[field], `group:${g.key}:${field}`);
          recalc();
        },
        { disabled: locked },
      );
    const row = h('tr', { dataset: { group: g.key } }, [
      h('th', { scope: 'row' }, [h('div', null, g.name), h('div', { class: 'sub' }, g.key)]),
      h('td', { class: 'num' }, String(g.members)),
      h('td', { class: 'num' }, input('allocation', 'Monthly')),
      h('td', { class: 'num' }, input('extra', 'Extra')),
      cells.distributed,
      cells.available,
      h('td', { class: 'num' }, input('autoApprove', 'Auto-Approve')),
      status,
      h(
        'td',
        null,
        h(
          'button',
          {
            type: 'button',
            class: 'button small',
            'aria-label': `Show members of ${g.name}`,
            onclick: () => selectGroup(g.key),
          },
          'Members',
        ),
      ),
    ]);
    return { g, row, cells, status };
  });
  const totalCells = {
    allocation: h('td', { class: 'num' }),
    extra: h('td', { class: 'num' }),
    distributed: h('td', { class: 'num' }),
    available: h('td', { class: 'num' }),
    autoApprove: h('td', { class: 'num' }),
  };
  const budgetLine = h('p', { class: 'hint', id: 'budget-line' });
  const groupsTable = h('table', { class: 'table', id: 'groups-table' }, [
    h(
      'thead',
      null,
      h('tr', null, [
        h('th', { scope: 'col' }, 'Group'),
        h('th', { scope: 'col', class: 'num' }, 'Members'),
        h('th', { scope: 'col', class: 'num' }, ['Monthly ', declaredTag()]),
        h('th', { scope: 'col', class: 'num' }, ['Extra ', declaredTag()]),
        h('th', { scope: 'col', class: 'num' }, 'Distributed'),
        h('th', { scope: 'col', class: 'num' }, 'Available'),
        h('th', { scope: 'col', class: 'num' }, ['Auto-Approve ', declaredTag()]),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Status')),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Members')),
      ]),
    ),
    h(
      'tbody',
      null,
      groupRows.map((r) => r.row),
    ),
    h(
      'tfoot',
      null,
      h('tr', { id: 'groups-totals' }, [
        h('th', { scope: 'row' }, 'Total'),
        h('td', { class: 'num' }, String(groups.reduce((n, g) => n + g.members, 0))),
        totalCells.allocation,
        totalCells.extra,
        totalCells.distributed,
        totalCells.available,
        totalCells.autoApprove,
        h('td'),
        h('td'),
      ]),
    ),
  ]);

  // --- members of one group ----------------------------------------------------------------------------
  let memberRows = [];
  const membersBox = h('div', { class: 'scroll', id: 'members-box' });
  const pager = h('div', { class: 'pager' });
  const groupSelect = h(
    'select',
    { id: 'members-group', 'aria-label': 'Group' },
    groups.map((g) => h('option', { value: g.key, selected: g.key === view.group }, g.name)),
  );
  groupSelect.addEventListener('change', () => selectGroup(groupSelect.value));
  const search = h('input', {
    id: 'members-search',
    type: 'search',
    placeholder: 'Search e-mail or name',
    'aria-label': 'Search members',
    value: view.search,
  });
  let searchTimer;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      view.search = search.value.trim();
      view.page = 1;
      loadMembers();
    }, 250);
  });

  function selectGroup(key) {
    view.group = key;
    view.page = 1;
    view.search = '';
    search.value = '';
    groupSelect.value = key;
    loadMembers();
    membersBox.scrollIntoView?.({ block: 'nearest' });
  }

  let membersLoad = 0;
  async function loadMembers() {
    if (!view.group) return;
    const load = ++membersLoad;
    membersBox.setAttribute('aria-busy', 'true');
    try {
      const data = await ctx.api(
        'GET',
        ctx.paths.members(view.group, {
          search: view.search,
          cursor: view.page > 1 ? view.cursors[view.page - 1] : undefined,
          limit: PAGE_SIZE,
        }),
      );
      if (load !== membersLoad) return;
      // Pages are cursors: the one after this page is known once this page is in. Only Previous and Next
      // move between pages, so the cursor of any page reached is always one of this search's.
      view.cursors[view.page] = data.nextCursor;
      drawMembers(data);
    } catch (err) {
      if (load === membersLoad) ctx.fail(err, 'Loading members failed');
    } finally {
      if (load === membersLoad) membersBox.removeAttribute('aria-busy');
    }
  }

  function drawMembers(data) {
    const groupKey = view.group;
    memberRows = data.items.map((m) => {
      const p = pending.members.get(m.email) ?? {};
      const orig = { allocation: m.allocation, extra: m.extra };
      const status = h('td', { class: 'status' });
      const input = (field, label, nullable) =>
        amountInput(
          field in p ? p[field] : m[field],
          `${label} of ${m.email}`,
          (v) => {
            record(pending.members, m.email, field, v, m[field], `member:${m.email}:${field}`, {
              group: groupKey,
              orig,
            });
            recalc();
          },
          { nullable, disabled: locked },
        );
      const row = h('tr', { dataset: { member: m.email } }, [
        h('th', { scope: 'row' }, [
          h('div', null, m.email),
          m.name ? h('div', { class: 'sub' }, m.name) : null,
          m.declared ? null : h('div', { class: 'sub runtime' }, 'signed up, not in credits.yaml'),
        ]),
        h('td', { class: 'num' }, input('allocation', 'Monthly', true)),
        h('td', { class: 'num' }, input('extra', 'Extra', false)),
        h('td', { class: 'num' }, format(m.used)),
        h('td', { class: 'num' }, format(m.remaining)),
        status,
      ]);
      return { m, row, status };
    });
    const table = h('table', { class: 'table', id: 'members-table' }, [
      h(
        'thead',
        null,
        h('tr', null, [
          h('th', { scope: 'col' }, 'Member'),
          h('th', { scope: 'col', class: 'num' }, ['Monthly ', declaredTag()]),
          h('th', { scope: 'col', class: 'num' }, ['Extra ', declaredTag()]),
          h('th', { scope: 'col', class: 'num' }, 'Used'),
          h('th', { scope: 'col', class: 'num' }, 'Remaining'),
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Status')),
        ]),
      ),
      h(
        'tbody',
        null,
        memberRows.length
          ? memberRows.map((r) => r.row)
          : h('tr', null, h('td', { colspan: '6', class: 'empty' }, 'No members match.')),
      ),
    ]);
    membersBox.replaceChildren(table);
    const page = view.page;
    const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
    pager.replaceChildren(
      h(
        'button',
        {
          type: 'button',
          class: 'button small',
          disabled: page <= 1,
          onclick: () => {
            view.page = Math.max(1, page - 1);
            loadMembers();
          },
        },
        '‹ Previous',
      ),
      h(
        'span',
        { id: 'members-page', 'aria-live': 'polite' },
        `Page ${page} of ${pages} · ${data.total} member${data.total === 1 ? '' : 's'}`,
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'button small',
          disabled: !data.nextCursor,
          onclick: () => {
            view.page = page + 1;
            loadMembers();
          },
        },
        'Next ›',
      ),
    );
    recalc();
  }

  // --- unsaved edits: badges, recalculated figures, the save bar -----------------------------------------
  const saveCount = h('span', { id: 'unsaved-count' });
  const saveButton = h('button', { type: 'button', id: 'save', class: 'button primary' }, 'Save changes');
  const discardButton = h('button', { type: 'button', id: 'discard', class: 'button' }, 'Discard');
  const saveBar = h('div', { class: 'save-bar', id: 'save-bar', hidden: true }, [
    saveCount,
    h('span', { class: 'hint' }, 'Saving changes values declared in credits.yaml: they become drift.'),
    h('span', { class: 'spacer' }),
    discardButton,
    saveButton,
  ]);

  function recalc() {
    const totals = { allocation: '0', extra: '0', distributed: '0', available: '0', autoApprove: '0' };
    for (const r of groupRows) {
      const v = preview(r.g);
      computedCell(r.cells.distributed, v.distributed, r.g.distributed);
      computedCell(r.cells.available, v.available, r.g.available);
      for (const k of Object.keys(totals)) totals[k] = add(totals[k], v[k]);
      const unsaved =
        pending.groups.has(r.g.key) || [...pending.members.values()].some((m) => m.group === r.g.key);
      r.status.replaceChildren(unsaved ? badge('Unsaved', 'unsaved') : '');
      r.row.classList.toggle('unsaved', unsaved);
    }
    for (const [k, cell] of Object.entries(totalCells)) {
      const saved = add(...groups.map((g) => g[k]));
      computedCell(cell, totals[k], saved);
    }
    const budget = add(totals.allocation, totals.extra);
    const over = cmp(budget, ov.creditLimit) > 0;
    setText(
      budgetLine,
      `Groups' Monthly + Extra: ${format(budget)} of the account's credit limit ${format(ov.creditLimit)}` +
        (over ? ' — over the limit: credits.yaml with these values would not validate.' : '.'),
    );
    budgetLine.classList.toggle('error-text', over);
    for (const r of memberRows) {
      const unsaved = pending.members.has(r.m.email);
      r.status.replaceChildren(unsaved ? badge('Unsaved', 'unsaved') : '');
      r.row.classList.toggle('unsaved', unsaved);
    }
    const n = changeCount();
    saveBar.hidden = n === 0 && pending.invalid.size === 0;
    setText(
      saveCount,
      pending.invalid.size
        ? `${pending.invalid.size} value${pending.invalid.size === 1 ? ' is' : 's are'} not an amount`
        : `${n} unsaved change${n === 1 ? '' : 's'}`,
    );
    saveButton.disabled = saving || locked || n === 0 || pending.invalid.size > 0;
    discardButton.disabled = saving;
  }

  discardButton.addEventListener('click', () => {
    pending.groups.clear();
    pending.members.clear();
    pending.invalid.clear();
    ctx.clearBanner();
    ctx.rerender();
  });

  saveButton.addEventListener('click', async () => {
    const ops = [];
    for (const [key, p] of pending.groups) {
      ops.push({
        what: `group ${key}`,
        path: ctx.paths.group(key),
        body: { ...p },
        id: key,
        map: pending.groups,
      });
    }
    for (const [email, p] of pending.members) {
      const body = {};
      if ('allocation' in p) body.allocation = p.allocation;
      if ('extra' in p) body.extra = p.extra;
      ops.push({
        what: `member ${email}`,
        path: ctx.paths.member(email),
        body,
        id: email,
        map: pending.members,
      });
    }
    saving = true;
    recalc();
    let saved = 0;
    try {
      for (const op of ops) {
        try {
          await ctx.api('PATCH', op.path, op.body);
        } catch (err) {
          ctx.fail(err, `Saving ${op.what} was refused`);
          return;
        }
        op.map.delete(op.id);
        saved += Object.keys(op.body).length;
      }
      ctx.notify(
        'ok',
        `Saved ${saved} change${saved === 1 ? '' : 's'}.`,
        'These values are declared in credits.yaml: the next credits plan shows them as "changed outside ' +
          'credits.yaml" (drift), and credits apply sets them back unless the file is updated to match.',
      );
    } finally {
      saving = false;
      await ctx.rerender();
    }
  });

  // --- the tab -----------------------------------------------------------------------------------------
  const notice = declaredNotice(
    locked,
    'the Monthly, Extra and Auto-Approve of groups and the Monthly and Extra of members',
    'An edit saved here is drift: the next plan shows it as changed outside credits.yaml.',
  );

  const node = h('div', { class: 'tab-allocations' }, [
    notice,
    h('section', { class: 'card' }, [
      h('h2', null, 'Groups'),
      h('div', { class: 'scroll' }, groupsTable),
      budgetLine,
    ]),
    h('section', { class: 'card' }, [
      h('div', { class: 'card-head' }, [
        h('h2', null, 'Members'),
        h('div', { class: 'filters' }, [groupSelect, search]),
      ]),
      h(
        'p',
        { class: 'hint' },
        'Monthly is the member’s individual allocation; leave it empty to draw from the group’s pool.',
      ),
      membersBox,
      pager,
    ]),
    saveBar,
  ]);
  recalc();
  await loadMembers();
  return node;
}
