// Semantic rules of the `alerts` block: what its schema cannot say (decimal places, urls, repeats).
import { dec, decimalPlaces } from '../decimal.js';
import type { ConfigIssue } from './config-issue.js';
import type { ExactConfig } from './exact-config.js';

/** Thresholds are percentages with at most this many decimal places (99.5, 99.99). */
export const THRESHOLD_DECIMALS = 2;

/** Plain http is allowed only to the machine itself; anywhere else the payload travels over TLS. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Why a webhook url is not usable, or undefined when it is. */
export function webhookUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'it is not a URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'it is not https:// or http://';
  if (parsed.username || parsed.password) return 'it holds a user or password';
  if (parsed.protocol === 'http:' && !LOOPBACK.has(parsed.hostname)) {
    return 'http:// is allowed only to localhost, 127.0.0.1 or [::1]';
  }
  return undefined;
}

/** One text per receiver: scheme and host in lower case, no default port (HOOKS.example:443 is hooks.example). */
const sameReceiver = (url: string): string => new URL(url).href;

export function alertRules(config: ExactConfig): ConfigIssue[] {
  const alerts = config.alerts;
  if (!alerts) return [];
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  alerts.thresholds.forEach((t, i) => {
    const path = ['alerts', 'thresholds', i];
    if (decimalPlaces(t.text) > THRESHOLD_DECIMALS) {
      issues.push({ code: 'ALERT_THRESHOLD_RANGE', params: { value: t.source }, path });
      return;
    }
    // The schema compared floats; exact text decides (`80` and `80.00` are one threshold). A value that is no
    // number at all (`.nan`, `.inf`) is reported by the schema stage, not again as a duplicate.
    if (!t.isFinite) return;
    const canonical = dec(t.text).toFixed();
    if (seen.has(canonical))
      issues.push({ code: 'ALERT_THRESHOLD_DUPLICATE', params: { value: t.source }, path });
    seen.add(canonical);
  });
  const urls = new Set<string>();
  (alerts.webhooks ?? []).forEach((w, i) => {
    const problem = webhookUrlProblem(w.url);
    if (problem) {
      issues.push({
        code: 'ALERT_BAD_URL',
        params: { value: w.url, reason: problem },
        path: ['alerts', 'webhooks', i, 'url'],
      });
    } else if (urls.has(sameReceiver(w.url))) {
      issues.push({
        code: 'ALERT_WEBHOOK_DUPLICATE',
        params: { value: w.url },
        path: ['alerts', 'webhooks', i, 'url'],
      });
    }
    if (!problem) urls.add(sameReceiver(w.url));
    const scopes = new Set<string>();
    (w.scopes ?? []).forEach((s, j) => {
      if (scopes.has(s)) {
        issues.push({
          code: 'SCHEMA_VALUE',
          params: { where: `alerts.webhooks.${i}.scopes`, reason: `scope ${s} is listed twice` },
          path: ['alerts', 'webhooks', i, 'scopes', j],
        });
      }
      scopes.add(s);
    });
  });
  return issues;
}
