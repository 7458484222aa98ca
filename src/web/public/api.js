// The dashboard's only link to the server: the /v1 API with the admin token kept in sessionStorage.
const TOKEN_KEY = 'credits.adminToken';
/** Whether the token is an admin's or a member's, learnt from the API once per token. */
const ROLE_KEY = 'credits.role';

/** Hints for the codes an admin can act on (the API sends code and message; the hint is the console's). */
const HINTS = {
  MANAGED_BY_GIT: 'This account has managedBy: git. Change credits.yaml and run credits apply instead.',
  GROUP_BUDGET_INSUFFICIENT: 'Approve a smaller amount, or raise the group budget in credits.yaml.',
  REQUEST_ALREADY_DECIDED: 'Someone else decided it first; refresh to see the current state.',
  UNAUTHORIZED: 'The token is missing, revoked or wrong: paste an admin token.',
  FORBIDDEN: 'The dashboard takes an admin or a member token, not a service token.',
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.hint = HINTS[code] ?? '';
  }
}

/**
 * Moves a token from the URL fragment (#token=…) into sessionStorage and removes it from the address bar.
 * The fragment never reaches the server, so the token is in no request line and no log.
 */
export function takeTokenFromFragment() {
  if (!location.hash) return;
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('token');
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token.trim());
  sessionStorage.removeItem(ROLE_KEY);
  params.delete('token');
  const rest = params.toString();
  history.replaceState(null, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
}

export const getToken = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (token) => {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
  sessionStorage.removeItem(ROLE_KEY);
};
export const forgetToken = () => {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(ROLE_KEY);
};
export const getRole = () => sessionStorage.getItem(ROLE_KEY);
export const setRole = (role) => sessionStorage.setItem(ROLE_KEY, role);

/** One API call; resolves to the JSON body or rejects with an ApiError carrying the API's code. */
export async function api(method, path, body) {
  const headers = { accept: 'application/json', authorization: `Bearer ${getToken() ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'the server did not answer');
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const error = data && typeof data === 'object' && data.error ? data.error : {};
    throw new ApiError(res.status, error.code ?? `HTTP_${res.status}`, error.message ?? res.statusText);
  }
  return data;
}

/** Every item of a paginated list route, page after page: the dashboard shows whole lists. */
export async function apiList(path) {
  const items = [];
  let cursor = null;
  do {
    const q = `${path.includes('?') ? '&' : '?'}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await api('GET', path + q);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

const enc = encodeURIComponent;
export const paths = {
  overview: () => '/v1/overview',
  groups: () => '/v1/groups',
  group: (key) => `/v1/groups/${enc(key)}`,
  members: (key, { search, cursor, limit }) => {
    const q = new URLSearchParams({ limit: String(limit) });
    if (cursor) q.set('cursor', cursor);
    if (search) q.set('search', search);
    return `/v1/groups/${enc(key)}/members?${q}`;
  },
  member: (email) => `/v1/members/${enc(email)}`,
  settings: () => '/v1/settings',
  requests: ({ status, cursor, limit }) => {
    const q = new URLSearchParams({ limit: String(limit) });
    if (status) q.set('status', status);
    if (cursor) q.set('cursor', cursor);
    return `/v1/requests?${q}`;
  },
  approve: (id) => `/v1/requests/${enc(id)}/approve`,
  deny: (id) => `/v1/requests/${enc(id)}/deny`,
  resetCycle: () => '/v1/cycle/reset',
  me: () => '/v1/me',
  createRequest: () => '/v1/requests',
};
