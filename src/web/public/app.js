// The dashboard's entry point: the token, the four tabs, the Refresh button, the banner and the dialog.
import {
  api,
  apiList,
  ApiError,
  forgetToken,
  getRole,
  getToken,
  paths,
  setRole,
  setToken,
  takeTokenFromFragment,
} from './api.js';
import { h, setText } from './dom.js';
import * as overview from './overview.js';
import * as allocations from './allocations.js';
import * as requests from './requests.js';
import * as settings from './settings.js';
import * as member from './member.js';
import * as activity from './activity.js';

const TABS = { overview, allocations, requests, settings, activity };
const TAB_KEY = 'credits.tab';
const $ = (id) => document.getElementById(id);

const state = { tab: 'overview', managedByGit: false, renders: 0, role: null };

// --- banner: confirmations and errors ------------------------------------------------------------------
function notify(kind, title, message = '', hint = '') {
  const banner = $('banner');
  banner.className = `banner banner-${kind}`;
  banner.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  setText($('banner-title'), title);
  setText($('banner-message'), message);
  setText($('banner-hint'), hint);
  banner.hidden = false;
}
const clearBanner = () => {
  $('banner').hidden = true;
};

/** Shows an API failure; a 401 sends the user back to the token form. */
function fail(err, what = 'The request failed') {
  if (err instanceof ApiError) {
    if (err.status === 401) {
      forgetToken();
      showLogin('That token was not accepted (401). Paste an admin or member token.');
      return;
    }
    if (err.code === 'MANAGED_BY_GIT') state.managedByGit = true;
    notify('error', `${what}: ${err.code}`, err.message, err.hint);
    return;
  }
  notify('error', what, err instanceof Error ? err.message : String(err));
}

// --- confirmation dialog -------------------------------------------------------------------------------
function confirmDialog({ title, body, warning = '', ok = 'Confirm', danger = false }) {
  const dialog = $('confirm');
  setText($('confirm-title'), title);
  setText($('confirm-body'), body);
  setText($('confirm-warning'), warning);
  $('confirm-warning').hidden = !warning;
  const okButton = $('confirm-ok');
  setText(okButton, ok);
  okButton.className = `button ${danger ? 'danger' : 'primary'}`;
  return new Promise((resolve) => {
    const done = (answer) => {
      okButton.removeEventListener('click', onOk);
      $('confirm-cancel').removeEventListener('click', onCancel);
      dialog.removeEventListener('cancel', onCancel);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const onOk = () => done(true);
    const onCancel = (e) => {
      e.preventDefault();
      done(false);
    };
    okButton.addEventListener('click', onOk);
    $('confirm-cancel').addEventListener('click', onCancel);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    $('confirm-cancel').focus();
  });
}

/**
 * A dialog with one text field (the Deny reason): resolves to the text typed (perhaps '') or null on Cancel
 * or Escape. Built per use and removed after, so it never holds an earlier answer.
 */
function promptDialog({ title, body, label, ok, danger = false, maxLength = 2000 }) {
  const field = h('textarea', { id: 'prompt-field', rows: '3', maxlength: String(maxLength) });
  const okButton = h(
    'button',
    { type: 'button', class: `button ${danger ? 'danger' : 'primary'}`, id: 'prompt-ok' },
    ok,
  );
  const cancel = h('button', { type: 'button', class: 'button', id: 'prompt-cancel' }, 'Cancel');
  const dialog = h('dialog', { id: 'prompt', 'aria-labelledby': 'prompt-title' }, [
    h('h2', { id: 'prompt-title' }, title),
    body ? h('p', null, body) : null,
    h('label', { for: 'prompt-field', class: 'field-label' }, label),
    field,
    h('div', { class: 'dialog-buttons' }, [cancel, okButton]),
  ]);
  document.body.append(dialog);
  return new Promise((resolve) => {
    const done = (answer) => {
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(answer);
    };
    okButton.addEventListener('click', () => done(field.value.trim()));
    cancel.addEventListener('click', () => done(null));
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      done(null);
    });
    dialog.showModal();
    field.focus();
  });
}

// --- tabs ----------------------------------------------------------------------------------------------
const ctx = {
  api,
  list: apiList,
  paths,
  notify,
  clearBanner,
  fail,
  confirm: confirmDialog,
  prompt: promptDialog,
  state,
  rerender: () => show(state.tab),
  setAccount: (account) => {
    setText($('account-name'), account ? `${account.name} (${account.id})` : '');
    // Known before the first edit is refused: the overview reports managedBy.
    if (account?.managedBy === 'git') state.managedByGit = true;
  },
};

/** The tab named in the address (#tab=requests), if any. */
function tabInUrl() {
  const tab = new URLSearchParams(location.hash.slice(1)).get('tab');
  return TABS[tab] ? tab : null;
}

/** Puts the tab in the address: a new history entry when the person moved (so Back returns), else replaced. */
function putTabInUrl(tab, push) {
  if (tabInUrl() === tab) return;
  const url = `${location.pathname}${location.search}#tab=${tab}`;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

async function show(tab, { push = false } = {}) {
  if (state.role === 'member') return renderPanel(member, 'member');
  state.tab = TABS[tab] ? tab : 'overview';
  sessionStorage.setItem(TAB_KEY, state.tab);
  putTabInUrl(state.tab, push);
  for (const button of document.querySelectorAll('[role="tab"]')) {
    const selected = button.dataset.tab === state.tab;
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
  }
  return renderPanel(TABS[state.tab], state.tab);
}

/** Draws one tab (or the member's page) into the panel; a later click or refresh wins over this one. */
async function renderPanel(module, name) {
  const panel = $('panel');
  const render = ++state.renders;
  if (name === 'member') {
    panel.setAttribute('role', 'region');
    panel.setAttribute('aria-label', 'Your credits');
    panel.removeAttribute('aria-labelledby');
  } else {
    panel.setAttribute('role', 'tabpanel');
    panel.removeAttribute('aria-label');
    panel.setAttribute('aria-labelledby', `tab-${name}`);
  }
  panel.setAttribute('aria-busy', 'true');
  panel.dataset.state = 'loading';
  try {
    const node = await module.render(ctx);
    if (render !== state.renders) return;
    // Every admin tab has a page heading (the member page draws its own): axe's page-has-heading-one.
    const heading =
      name === 'member' ? null : h('h1', { class: 'visually-hidden' }, $(`tab-${name}`).textContent.trim());
    panel.replaceChildren(...(heading ? [heading, node] : [node]));
    panel.dataset.tab = name;
    panel.dataset.state = 'ready';
  } catch (err) {
    if (render !== state.renders) return;
    panel.replaceChildren(h('p', { class: 'error-text' }, 'Could not load this tab.'));
    panel.dataset.state = 'error';
    fail(err, 'Loading failed');
  } finally {
    if (render === state.renders) panel.removeAttribute('aria-busy');
  }
}

function showLogin(message = '') {
  // Whatever the next token opens starts clean: no edits, filters or managedBy flag of the last one.
  for (const tab of Object.values(TABS)) tab.reset?.();
  state.managedByGit = false;
  state.role = null;
  sessionStorage.removeItem(TAB_KEY);
  if (tabInUrl()) history.replaceState(null, '', `${location.pathname}${location.search}`);
  $('login').hidden = false;
  $('panel').hidden = true;
  $('tabs').hidden = true;
  $('top-actions').hidden = true;
  setText($('account-name'), '');
  setText($('login-error'), message);
  clearBanner();
  $('token-input').focus();
}

/**
 * Admin or member: the overview answers an admin token and refuses a member one with 403, so the first
 * call tells them apart (once per token: the answer is kept with it).
 */
async function roleOfToken() {
  const known = getRole();
  if (known) return known;
  let role = 'admin';
  try {
    await api('GET', paths.overview());
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 403) throw err;
    role = 'member';
  }
  setRole(role);
  return role;
}

async function showDashboard() {
  $('login').hidden = true;
  $('panel').hidden = false;
  $('top-actions').hidden = false;
  try {
    state.role = await roleOfToken();
  } catch (err) {
    fail(err, 'Signing in failed');
    return;
  }
  // A member sees their own page only: never the admin tabs.
  $('tabs').hidden = state.role !== 'admin';
  if (state.role === 'member') return renderPanel(member, 'member');
  return show(tabInUrl() ?? sessionStorage.getItem(TAB_KEY) ?? 'overview');
}

function wire() {
  for (const button of document.querySelectorAll('[role="tab"]')) {
    button.addEventListener('click', () => {
      clearBanner();
      show(button.dataset.tab, { push: true });
    });
  }
  $('tabs').addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const names = Object.keys(TABS);
    const next =
      names[(names.indexOf(state.tab) + (e.key === 'ArrowRight' ? 1 : names.length - 1)) % names.length];
    show(next, { push: true }).then(() => $(`tab-${next}`).focus());
  });
  $('refresh').addEventListener('click', () => show(state.tab));
  $('forget-token').addEventListener('click', () => {
    forgetToken();
    showLogin();
  });
  $('banner-close').addEventListener('click', clearBanner);
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = $('token-input').value.trim();
    if (!token) return;
    setToken(token);
    $('token-input').value = '';
    showDashboard();
  });
}

wire();
// Back and Forward move between tabs; a #token= URL pasted into the address bar signs in (or switches token).
window.addEventListener('popstate', () => {
  if (state.role === 'admin' && getToken() && !$('panel').hidden && tabInUrl() && tabInUrl() !== state.tab) {
    clearBanner();
    show(tabInUrl());
  }
});
window.addEventListener('hashchange', () => {
  if (!new URLSearchParams(location.hash.slice(1)).get('token')) return;
  for (const tab of Object.values(TABS)) tab.reset?.();
  state.managedByGit = false;
  takeTokenFromFragment();
  showDashboard();
});
takeTokenFromFragment();
if (getToken()) showDashboard();
else showLogin();
