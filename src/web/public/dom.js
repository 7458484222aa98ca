// Element building for the dashboard. Text always goes in as text nodes (the same as textContent), never as
// markup: nothing the API returns is ever parsed as HTML.

/** h('td', { class: 'num' }, 'text', child) → an element; props starting with "on" are listeners. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value') el.value = String(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.append(child);
    else el.append(document.createTextNode(String(child)));
  }
}

/** Sets an element's text (textContent). */
export function setText(el, text) {
  el.textContent = text === undefined || text === null ? '' : String(text);
}

// A time names its zone ("Dec 1, 2026, 7:22 PM UTC"): the browser's zone need not be the account's cycle zone.
const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  timeZoneName: 'short',
});
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** An ISO timestamp from the API for people, in the browser's time zone (named). */
export function when(iso, withTime = true) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : (withTime ? dateTime : dateOnly).format(d);
}

/** A small coloured label: h('span', { class: 'badge badge-<kind>' }). */
export function badge(text, kind) {
  return h('span', { class: `badge badge-${kind}` }, text);
}

/** "Declared in credits.yaml" marker for fields that an edit here turns into drift. */
export function declaredTag() {
  return h(
    'span',
    {
      class: 'tag',
      title: 'Declared in credits.yaml: an edit here is drift until the file is updated to match.',
    },
    'credits.yaml',
  );
}

/**
 * The note above a tab that edits declared fields: that they live in credits.yaml and an edit is drift, or,
 * for a git-managed account, that the API refuses such edits. `fields` names what the tab edits; `drift`
 * says what an edit becomes.
 */
export function declaredNotice(locked, fields, drift) {
  return locked
    ? h('div', { class: 'notice notice-locked', role: 'note', id: 'managed-by-git' }, [
        h('strong', null, 'Managed by git. '),
        `This account has managedBy: git in credits.yaml, so the API refuses edits of ${fields}. `,
        'Change credits.yaml and run credits apply.',
      ])
    : h('div', { class: 'notice', role: 'note' }, [
        declaredTag(),
        ` ${fields[0].toUpperCase()}${fields.slice(1)} are managed in `,
        h('code', null, 'credits.yaml'),
        `. ${drift}`,
      ]);
}

/**
 * Previous / label / Next for a list read by cursors: `go(-1)` or `go(+1)` turns the page; Previous is off on
 * the first page, Next when there is no next cursor.
 */
export function pagerControls({ first, hasNext, label, go }) {
  const button = (text, disabled, step) =>
    h('button', { type: 'button', class: 'button small', disabled, onclick: () => go(step) }, text);
  return [button('‹ Previous', first, -1), label, button('Next ›', !hasNext, 1)];
}
