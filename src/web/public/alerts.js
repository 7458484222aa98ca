// The Overview's latest budget threshold alerts (GET /v1/alerts) and how their webhook deliveries went.
import { badge, h, when } from './dom.js';
import { format } from './decimal.js';

const LATEST = 5;
/** Badge colours of the delivery states, shared with the requests' approved/denied/pending. */
const KIND = { delivered: 'approved', failed: 'denied', pending: 'pending' };

/** Whose budget: a member's e-mail, a group by its name as the other tables show it, or the account. */
const scopeText = (a, groupNames) =>
  a.scope === 'member'
    ? a.member
    : a.scope === 'group'
      ? `${groupNames.get(a.group) ?? a.group} (group)`
      : 'Account';

/** Why an attempt failed: the recorded error, else its HTTP status; never a blank. */
const reason = (d) => d.lastError ?? (d.lastStatus ? `HTTP ${d.lastStatus}` : 'no reason recorded');

function delivery(d) {
  const detail =
    d.status === 'delivered'
      ? `HTTP ${d.lastStatus}`
      : d.status === 'failed'
        ? `gave up after ${d.attempts} attempts: ${reason(d)}`
        : d.attempts > 0
          ? `attempt ${d.attempts} failed: ${reason(d)}; next ${when(d.nextAttemptAt)}`
          : 'not sent yet';
  return h('div', { class: 'alert-delivery' }, [
    badge(d.status, KIND[d.status] ?? 'pending'),
    ' ',
    h('span', { class: 'sub' }, `${d.url} · ${detail}`),
  ]);
}

/**
 * The section, or null when the server has no alerts route (an older API). `groups` are the overview's
 * (key and name), for naming a group's alert.
 */
export async function alertsSection(ctx, groups = []) {
  const groupNames = new Map(groups.map((g) => [g.key, g.name]));
  let body;
  try {
    body = await ctx.api('GET', `/v1/alerts?limit=${LATEST}`);
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
  const content = body.alerts.length
    ? h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': 'Latest alerts table' }, [
        h('table', { class: 'table alerts-table', id: 'overview-alerts' }, [
          h(
            'thead',
            null,
            h('tr', null, [
              h('th', { scope: 'col' }, 'Raised'),
              h('th', { scope: 'col' }, 'Budget of'),
              h('th', { scope: 'col', class: 'num' }, 'Threshold'),
              h('th', { scope: 'col', class: 'num' }, 'Used / budget'),
              h('th', { scope: 'col' }, 'Deliveries'),
            ]),
          ),
          h(
            'tbody',
            null,
            body.alerts.map((a) =>
              h('tr', { dataset: { alert: a.id } }, [
                h('td', { class: 'when', title: a.createdAt }, when(a.createdAt)),
                h('th', { scope: 'row' }, scopeText(a, groupNames)),
                h('td', { class: 'num' }, `${a.threshold}%`),
                h('td', { class: 'num' }, `${format(a.used)} / ${format(a.budget)}`),
                h(
                  'td',
                  { class: 'deliveries' },
                  a.deliveries.length
                    ? // By url, so a webhook keeps its line from one alert (and one load) to the next.
                      [...a.deliveries]
                        .sort((x, y) => (x.url < y.url ? -1 : x.url > y.url ? 1 : 0))
                        .map(delivery)
                    : h('span', { class: 'sub' }, 'no webhook'),
                ),
              ]),
            ),
          ),
        ]),
      ])
    : h(
        'p',
        { class: 'sub' },
        'No alerts raised yet. Thresholds and webhooks are declared in credits.yaml (alerts).',
      );
  return h('section', { class: 'card', id: 'overview-alerts-card' }, [
    h('h2', null, 'Latest alerts'),
    content,
  ]);
}
