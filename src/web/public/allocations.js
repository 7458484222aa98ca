// Allocations tab, as the console has it: a groups table (click a row or its name to show its members) and
// the members of that group. A Monthly or Extra value is edited where it stands: the cell gets an accent
// border and its row an "Unsaved" badge and a Save button; Distributed, Available and the totals follow at
// once (exactly, decimal.js), and a value that would overspend warns in place. Saved edits are PATCHes of
// declared fields, so each is drift from credits.yaml.
import { badge, declaredNotice, declaredTag, h, setText, pagerControls } from './dom.js';
import { add, cmp, compact, format, isAmount, sub, typed } from './decimal.js';

const PAGE_SIZE = 10;
const INVALID = Symbol('invalid');
const SVG = 'http://www.w3.org/2000/svg';

// Survives tab switches and Refresh: the group shown, the member selected, the edits not yet saved, and
// the message of the last save (shown above the table it concerns after the tab is drawn again).
const view = { group: undefined, search: '', page: 1, cursors: [], member: null, flash: null };
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
  Object.assign(view, { group: undefined, search: '', page: 1, cursors: [], member: null, flash: null });
  pending.groups.clear();
  pending.members.clear();
  pending.invalid.clear();
}

const same = (a, b) => (a === null || b === null ? a === b : cmp(a, b) === 0);
const memberBudget = (allocation, extra) => add(allocation ?? '0', extra);
const changeCount = () =>
  [...pending.groups.values()].reduce((n, p) => n + Object.keys(p).length, 0) +
  [...pending.members.values()].reduce((n, p) => n + ('allocation' in p ? 1 : 0) + ('extra' in p ? 1 : 0), 0);
const FIELD_NAMES = { allocation: 'Monthly', extra: 'Extra', autoApprove: 'Auto-Approve' };

/** The floppy-disk icon of the row's Save button (drawn, so the CSP's img-src needs nothing more). */
function saveIcon() {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute(
    'd',
    'M5 3h11l5 5v11a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm2 2v5h8V5H7zm5 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6z',
  );
  svg.append(path);
  return svg;
}

/**
 * An amount shown as the table shows it (formatted, abbreviated when large, the exact value in the tooltip)
 * that becomes an editor when clicked: focus shows the plain number, blur formats it again. `onValue` gets
 * the new value, null (empty, where allowed) or INVALID.
 */
function cellInput(value, label, onValue, { nullable = false, disabled = false } = {}) {
  let current = value;
  const shown = (v) => (v === null ? '' : v === INVALID ? null : compact(v));
  const input = h('input', {
    class: 'amount cell-input',
    type: 'text',
    inputmode: 'decimal',
    autocomplete: 'off',
    spellcheck: 'false',
    value: shown(value) ?? '',
    placeholder: nullable ? 'pool' : '0',
    'aria-label': label,
    disabled,
  });
  const tooltip = () => {
    if (current === INVALID) input.title = 'Not an amount: digits, at most 6 decimal places';
    else if (current === null) input.title = 'Empty: draws from the group’s pool';
    else input.title = `${format(current)} credits`;
  };
  tooltip();
  input.addEventListener('focus', () => {
    if (current !== INVALID) input.value = current ?? '';
    input.select();
  });
  input.addEventListener('blur', () => {
    const text = shown(current);
    if (text !== null) input.value = text;
  });
  input.addEventListener('input', () => {
    const text = typed(input.value);
    current = text === '' && nullable ? null : isAmount(text) ? text : INVALID;
    input.setAttribute('aria-invalid', String(current === INVALID));
    tooltip();
    onValue(current);
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
    used: g.used,
    distributed: add(g.distributed, memberDelta),
    available: sub(add(g.available, budgetDelta), memberDelta),
  };
}

/** A figure the edits move: amber while it differs from the saved one, red when it goes below zero. */
function computedCell(cell, value, original) {
  setText(cell, compact(value));
  const changed = !same(value, original);
  const over = cmp(value, '0') < 0;
  cell.classList.toggle('changed', changed && !over);
  cell.classList.toggle('over', over);
  cell.title = changed ? `${format(value)} credits (saved: ${format(original)})` : `${format(value)} credits`;
}

/** The row's status cell: nothing, "Unsaved", or "Over budget" (with what it would leave). */
function statusBadge(cell, unsaved, over) {
  if (over) {
    const b = badge('Over budget', 'over');
    b.title = `Available would be ${format(over)}: the group cannot cover its members with these values.`;
    cell.replaceChildren(b, h('span', { class: 'visually-hidden' }, ` Available would be ${format(over)}`));
  } else cell.replaceChildren(unsaved ? badge('Unsaved', 'unsaved') : '');
}

/** The icon button that saves one row's edits (hidden, but its column kept, while the row has none). */
function rowSaveButton(onclick) {
  const button = h('button', {
    type: 'button',
    class: 'icon-button row-save',
    'aria-label': 'Save',
    title: 'Save this row’s changes',
    hidden: true,
    onclick,
  });
  button.append(saveIcon());
  return button;
}

const isControl = (target) => target instanceof Element && target.closest('input, button, select, a');

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
    view.member = null;
  }
  const locked = ctx.state.managedByGit;
  const groupName = (key) => groups.find((g) => g.key === key)?.name ?? key;
  const flash = view.flash;
  view.flash = null;
  const flashBanner = (where) =>
    flash?.where === where
      ? h('div', { class: 'inline-banner banner-ok', role: 'status', id: `saved-${where}` }, flash.text)
      : null;

  // --- saving one row ------------------------------------------------------------------------------------
  async function saveRows(ops) {
    if (!ops.length || saving) return;
    saving = true;
    recalc();
    const done = [];
    try {
      for (const op of ops) {
        try {
          await ctx.api('PATCH', op.path, op.body);
        } catch (err) {
          ctx.fail(err, `Saving ${op.what} was refused`);
          return;
        }
        op.map.delete(op.id);
        done.push(op);
      }
      const changes = done.reduce((n, op) => n + Object.keys(op.body).length, 0);
      view.flash = {
        where: done.every((op) => op.map === pending.members) ? 'members' : 'groups',
        text:
          done.length === 1
            ? `Saved ${done[0].what}: ${done[0].said}. The totals are recalculated; the change is drift from credits.yaml until the file says the same.`
            : `Saved ${changes} changes. The totals are recalculated; the changes are drift from credits.yaml until the file says the same.`,
      };
    } finally {
      saving = false;
      await ctx.rerender();
    }
  }
  const said = (body, orig) =>
    Object.entries(body)
      .map(
        ([k, v]) =>
          `${FIELD_NAMES[k]} ${orig[k] === null ? 'pool' : format(orig[k])} → ${v === null ? 'pool' : format(v)}`,
      )
      .join(', ');
  const groupOp = (g) => {
    const body = { ...pending.groups.get(g.key) };
    return {
      what: g.name,
      said: said(body, g),
      path: ctx.paths.group(g.key),
      body,
      id: g.key,
      map: pending.groups,
    };
  };
  const memberOp = (email) => {
    const p = pending.members.get(email);
    const body = {};
    if ('allocation' in p) body.allocation = p.allocation;
    if ('extra' in p) body.extra = p.extra;
    return {
      what: email,
      said: said(body, p.orig),
      path: ctx.paths.member(email),
      body,
      id: email,
      map: pending.members,
    };
  };

  // --- groups table ------------------------------------------------------------------------------------
  const groupRows = groups.map((g) => {
    const cells = {
      distributed: h('td', { class: 'num' }),
      available: h('td', { class: 'num' }),
    };
    const status = h('td', { class: 'status' });
    const p = pending.groups.get(g.key) ?? {};
    const inputs = {};
    const input = (field, label) => {
      inputs[field] = cellInput(
        p[field] ?? g[field],
        `${label} of ${g.name}`,
        (v) => {
          record(pending.groups, g.key, field, v, g[field], `group:${g.key}:${field}`);
          recalc();
        },
        { disabled: locked },
      );
      return inputs[field];
    };
    const save = rowSaveButton(() => saveRows([groupOp(g)]));
    const selected = g.key === view.group;
    const row = h(
      'tr',
      {
        class: `selectable${selected ? ' selected' : ''}`,
        'aria-current': selected ? 'true' : undefined,
        dataset: { group: g.key },
        onclick: (e) => {
          if (!isControl(e.target)) selectGroup(g.key);
        },
      },
      [
        h('th', { scope: 'row' }, [
          h(
            'button',
            {
              type: 'button',
              class: 'link group-name',
              onclick: () => selectGroup(g.key),
              title: `Show the members of ${g.name}`,
            },
            g.name,
          ),
          h('div', { class: 'sub' }, g.key),
        ]),
        h('td', { class: 'num' }, String(g.members)),
        h('td', { class: 'num' }, input('allocation', 'Monthly')),
        h('td', { class: 'num' }, input('extra', 'Extra')),
        cells.distributed,
        h('td', { class: 'num', title: `${format(g.used)} credits` }, compact(g.used)),
        cells.available,
        // What of the pool rolled over into this cycle (the group's rollover in credits.yaml); read-only.
        h(
          'td',
          { class: 'num', title: `${format(g.rolledOver)} credits rolled over` },
          compact(g.rolledOver),
        ),
        h('td', { class: 'num' }, input('autoApprove', 'Auto-Approve')),
        status,
        h('td', { class: 'actions-cell' }, save),
      ],
    );
    return { g, row, cells, status, inputs, save };
  });
  const totalCells = {
    allocation: h('td', { class: 'num' }),
    extra: h('td', { class: 'num' }),
    distributed: h('td', { class: 'num' }),
    used: h('td', { class: 'num' }),
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
        h('th', { scope: 'col', class: 'num' }, 'Used'),
        h('th', { scope: 'col', class: 'num' }, 'Available'),
        h('th', { scope: 'col', class: 'num' }, 'Rolled over'),
        h('th', { scope: 'col', class: 'num' }, ['Auto-Approve ', declaredTag()]),
        h('th', { scope: 'col', class: 'status' }, h('span', { class: 'visually-hidden' }, 'Status')),
        h('th', { scope: 'col', class: 'actions-cell' }, 'Actions'),
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
        totalCells.used,
        totalCells.available,
        h('td', { class: 'num' }, compact(groups.reduce((s, g) => add(s, g.rolledOver), '0'))),
        totalCells.autoApprove,
        h('td'),
        h('td'),
      ]),
    ),
  ]);

  // --- members of one group ----------------------------------------------------------------------------
  let memberRows = [];
  const membersTitle = h('h2', { id: 'members-title' });
  const membersBox = h('div', {
    class: 'scroll',
    id: 'members-box',
    tabindex: '0',
    role: 'region',
    'aria-labelledby': 'members-title',
  });
  const pager = h('div', { class: 'pager' });
  const search = h('input', {
    id: 'members-search',
    type: 'search',
    'aria-label': 'Search members',
    value: view.search,
  });
  const nameTheGroup = () => {
    setText(membersTitle, `Members of ${groupName(view.group)}`);
    search.placeholder = `Search members in ${groupName(view.group)}…`;
  };
  nameTheGroup();
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
    if (key !== view.group) {
      view.group = key;
      view.page = 1;
      view.search = '';
      view.member = null;
      search.value = '';
    }
    for (const r of groupRows) {
      const on = r.g.key === key;
      r.row.classList.toggle('selected', on);
      if (on) r.row.setAttribute('aria-current', 'true');
      else r.row.removeAttribute('aria-current');
    }
    nameTheGroup();
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

  function selectMember(email) {
    view.member = view.member === email ? null : email;
    for (const r of memberRows) {
      const on = r.m.email === view.member;
      r.row.classList.toggle('selected', on);
      if (on) r.row.setAttribute('aria-current', 'true');
      else r.row.removeAttribute('aria-current');
    }
  }

  function drawMembers(data) {
    const groupKey = view.group;
    memberRows = data.items.map((m) => {
      const p = pending.members.get(m.email) ?? {};
      const orig = { allocation: m.allocation, extra: m.extra };
      const status = h('td', { class: 'status' });
      const inputs = {};
      const input = (field, label, nullable) => {
        inputs[field] = cellInput(
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
        return inputs[field];
      };
      const save = rowSaveButton(() => saveRows([memberOp(m.email)]));
      const selected = view.member === m.email;
      const row = h(
        'tr',
        {
          class: `selectable${selected ? ' selected' : ''}`,
          'aria-current': selected ? 'true' : undefined,
          tabindex: '0',
          dataset: { member: m.email },
          onclick: (e) => {
            if (!isControl(e.target)) selectMember(m.email);
          },
          onkeydown: (e) => {
            if (e.target !== e.currentTarget || (e.key !== 'Enter' && e.key !== ' ')) return;
            e.preventDefault();
            selectMember(m.email);
          },
        },
        [
          h('th', { scope: 'row' }, [
            h('div', null, m.name ?? m.email),
            m.name ? h('div', { class: 'sub' }, m.email) : null,
            m.declared ? null : h('div', { class: 'sub runtime' }, 'signed up, not in credits.yaml'),
          ]),
          h('td', { class: 'num' }, input('allocation', 'Monthly', true)),
          h('td', { class: 'num' }, input('extra', 'Extra', false)),
          // Rolled over into this cycle (rollover in credits.yaml), apart from the allocation; not editable.
          h(
            'td',
            { class: 'num', title: `${format(m.rolledOver)} credits rolled over` },
            compact(m.rolledOver),
          ),
          h('td', { class: 'num', title: `${format(m.used)} credits` }, compact(m.used)),
          h('td', { class: 'num', title: `${format(m.remaining)} credits` }, compact(m.remaining)),
          status,
          h('td', { class: 'actions-cell' }, save),
        ],
      );
      return { m, row, status, inputs, save };
    });
    const table = h('table', { class: 'table', id: 'members-table' }, [
      h(
        'thead',
        null,
        h('tr', null, [
          h('th', { scope: 'col' }, 'Member'),
          h('th', { scope: 'col', class: 'num' }, ['Monthly ', declaredTag()]),
          h('th', { scope: 'col', class: 'num' }, ['Extra ', declaredTag()]),
          h('th', { scope: 'col', class: 'num' }, 'Rolled over'),
          h('th', { scope: 'col', class: 'num' }, 'Used'),
          h('th', { scope: 'col', class: 'num' }, 'Remaining'),
          h('th', { scope: 'col', class: 'status' }, h('span', { class: 'visually-hidden' }, 'Status')),
          h('th', { scope: 'col', class: 'actions-cell' }, 'Actions'),
        ]),
      ),
      h(
        'tbody',
        null,
        memberRows.length
          ? memberRows.map((r) => r.row)
          : h('tr', null, h('td', { colspan: '8', class: 'empty' }, 'No members match.')),
      ),
    ]);
    membersBox.replaceChildren(table);
    const page = view.page;
    const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
    pager.replaceChildren(
      ...pagerControls({
        first: page <= 1,
        hasNext: Boolean(data.nextCursor),
        label: h(
          'span',
          { id: 'members-page', 'aria-live': 'polite' },
          `Page ${page} of ${pages} · ${data.total} member${data.total === 1 ? '' : 's'}`,
        ),
        go: (step) => {
          view.page = Math.max(1, page + step);
          loadMembers();
        },
      }),
    );
    recalc();
  }

  // --- unsaved edits: borders, badges, row Save buttons, recalculated figures, the save bar --------------
  const saveCount = h('span', { id: 'unsaved-count' });
  const saveButton = h('button', { type: 'button', id: 'save', class: 'button primary' }, 'Save all');
  const discardButton = h('button', { type: 'button', id: 'discard', class: 'button' }, 'Discard');
  const saveBar = h('div', { class: 'save-bar', id: 'save-bar', hidden: true }, [
    saveCount,
    h('span', { class: 'hint' }, 'Saving changes values declared in credits.yaml: they become drift.'),
    h('span', { class: 'spacer' }),
    discardButton,
    saveButton,
  ]);

  const markInputs = (inputs, edited, over) => {
    for (const [field, input] of Object.entries(inputs)) {
      input.classList.toggle('edited', field in edited);
      input.classList.toggle('over', field in edited && over !== null);
    }
  };

  function recalc() {
    const totals = {
      allocation: '0',
      extra: '0',
      distributed: '0',
      used: '0',
      available: '0',
      autoApprove: '0',
    };
    const overByGroup = new Map();
    for (const r of groupRows) {
      const v = preview(r.g);
      computedCell(r.cells.distributed, v.distributed, r.g.distributed);
      computedCell(r.cells.available, v.available, r.g.available);
      for (const k of Object.keys(totals)) totals[k] = add(totals[k], v[k]);
      const over = cmp(v.available, '0') < 0 && !same(v.available, r.g.available) ? v.available : null;
      overByGroup.set(r.g.key, over);
      const edits = pending.groups.get(r.g.key) ?? {};
      const unsaved = pending.groups.has(r.g.key);
      statusBadge(r.status, unsaved, unsaved ? over : null);
      markInputs(r.inputs, edits, over);
      r.row.classList.toggle('unsaved', unsaved);
      r.save.hidden = !unsaved;
      r.save.disabled =
        saving || locked || [...pending.invalid].some((k) => k.startsWith(`group:${r.g.key}:`));
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
      const edits = pending.members.get(r.m.email) ?? {};
      const unsaved = pending.members.has(r.m.email);
      const groupOver = unsaved ? (overByGroup.get(edits.group) ?? null) : null;
      statusBadge(r.status, unsaved, groupOver);
      markInputs(r.inputs, edits, groupOver);
      r.row.classList.toggle('unsaved', unsaved);
      r.save.hidden = !unsaved;
      r.save.disabled =
        saving || locked || [...pending.invalid].some((k) => k.startsWith(`member:${r.m.email}:`));
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

  saveButton.addEventListener('click', () =>
    saveRows([
      ...groups.filter((g) => pending.groups.has(g.key)).map(groupOp),
      ...[...pending.members.keys()].map(memberOp),
    ]),
  );

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
      h(
        'p',
        { class: 'hint' },
        'Click a group to show its members; click a Monthly, Extra or Auto-Approve value to edit it.',
      ),
      flashBanner('groups'),
      h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': 'Groups table' }, groupsTable),
      budgetLine,
    ]),
    h('section', { class: 'card' }, [
      h('div', { class: 'card-head' }, [membersTitle, h('div', { class: 'filters' }, [search])]),
      h(
        'p',
        { class: 'hint' },
        'Monthly is the member’s individual allocation; leave it empty to draw from the group’s pool.',
      ),
      flashBanner('members'),
      membersBox,
      pager,
    ]),
    saveBar,
  ]);
  recalc();
  await loadMembers();
  return node;
}
