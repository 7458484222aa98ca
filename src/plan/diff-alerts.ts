// The alert changes of a plan: thresholds and webhooks are added or removed whole, a webhook's secretEnv and
// scopes updated in place (its url is its identity). Values only: the secret itself is never in the state.
import { cmp } from '../decimal.js';
import type { DeclaredAlerts, DeclaredWebhook } from '../declared-state.js';
import type { Change } from './plan.js';
import { thresholdAddress, webhookAddress } from './address.js';

const NONE: DeclaredAlerts = { thresholds: [], webhooks: [] };

/** `member,group,account`: scopes as one value of a change. */
export const scopesText = (scopes: readonly string[]): string => scopes.join(',');

export const webhookObject = (w: DeclaredWebhook): Record<string, string> => ({
  url: w.url,
  secretEnv: w.secretEnv,
  scopes: scopesText(w.scopes),
});

export function diffAlerts(
  desired: DeclaredAlerts | undefined,
  live: DeclaredAlerts | undefined,
  changes: Change[],
): void {
  const want = desired ?? NONE;
  const have = live ?? NONE;
  for (const t of want.thresholds) {
    if (!have.thresholds.some((h) => cmp(h, t) === 0)) {
      changes.push({
        address: thresholdAddress(t),
        action: 'create',
        before: null,
        after: t,
        effects: [
          'alerts from the next counter change; a budget already past it alerts at the next sweep of credits serve',
        ],
      });
    }
  }
  for (const h of have.thresholds) {
    if (!want.thresholds.some((t) => cmp(h, t) === 0)) {
      changes.push({ address: thresholdAddress(h), action: 'delete', before: h, after: null, effects: [] });
    }
  }
  const liveHooks = new Map(have.webhooks.map((w) => [w.url, w]));
  const wantUrls = new Set(want.webhooks.map((w) => w.url));
  for (const w of want.webhooks) {
    const h = liveHooks.get(w.url);
    if (!h) {
      changes.push({
        address: webhookAddress(w.url),
        action: 'create',
        before: null,
        after: webhookObject(w),
        effects: [`signs with the value of $${w.secretEnv} in the environment of credits serve`],
      });
      continue;
    }
    if (h.secretEnv !== w.secretEnv) {
      changes.push({
        address: webhookAddress(w.url, 'secretEnv'),
        action: 'update',
        before: h.secretEnv,
        after: w.secretEnv,
        effects: [],
      });
    }
    if (scopesText(h.scopes) !== scopesText(w.scopes)) {
      changes.push({
        address: webhookAddress(w.url, 'scopes'),
        action: 'update',
        before: scopesText(h.scopes),
        after: scopesText(w.scopes),
        effects: [],
      });
    }
  }
  for (const h of have.webhooks) {
    if (!wantUrls.has(h.url)) {
      changes.push({
        address: webhookAddress(h.url),
        action: 'delete',
        before: webhookObject(h),
        after: null,
        effects: ['alerts not yet delivered to it are still delivered'],
      });
    }
  }
}
