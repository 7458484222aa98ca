// Schema-valid config → DeclaredState: defaults filled in, amounts canonical, e-mails case-folded, sorted.
import { canonical } from '../decimal.js';
import { canonicalTimeZone } from './cadence.js';
import {
  ALERT_SCOPES,
  DEFAULT_GROUP,
  type DeclaredAlerts,
  type DeclaredGroup,
  type DeclaredMember,
  type DeclaredState,
} from '../declared-state.js';
import type { ExactNumber } from './exact-yaml.js';
import type { ExactConfig, ExactMember } from './exact-config.js';

const amount = (n: ExactNumber | undefined): string => (n === undefined ? '0' : canonical(n.text));

export const DEFAULT_GROUP_NAME = 'Default';

export function memberAmounts(value: ExactMember | null | undefined): {
  allocation: string | null;
  extra: string;
  rollover?: string;
} {
  if (value === null || value === undefined) return { allocation: null, extra: '0' };
  if ('text' in value) return { allocation: canonical(value.text), extra: '0' };
  return {
    allocation: value.allocation ? canonical(value.allocation.text) : null,
    extra: amount(value.extra),
    ...(value.rollover ? { rollover: canonical(value.rollover.max.text) } : {}),
  };
}

export const foldEmail = (email: string): string => email.trim().toLowerCase();

export function normalise(config: ExactConfig): DeclaredState {
  const a = config.account;
  const groups: DeclaredGroup[] = [];
  const members: DeclaredMember[] = [];
  const entries = Object.entries(config.groups ?? {});
  if (!entries.some(([key]) => key === DEFAULT_GROUP)) entries.push([DEFAULT_GROUP, {}]);
  for (const [key, g] of entries) {
    if (!g) continue;
    const isDefault = key === DEFAULT_GROUP;
    groups.push({
      key,
      name: isDefault ? DEFAULT_GROUP_NAME : ('name' in g && g.name) || key,
      allocation: amount(g.allocation),
      extra: amount(g.extra),
      autoApprove: amount(g.autoApprove),
      protect: !isDefault && 'protect' in g ? g.protect === true : false,
      ...(g.rollover ? { rollover: canonical(g.rollover.max.text) } : {}),
    });
    for (const [email, m] of Object.entries(g.members ?? {})) {
      members.push({ email: foldEmail(email), group: key, ...memberAmounts(m) });
    }
  }
  groups.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  members.sort((x, y) => (x.email < y.email ? -1 : x.email > y.email ? 1 : 0));
  return {
    account: {
      id: a.id,
      name: a.name ?? a.id,
      creditLimit: amount(a.creditLimit),
      cadence: a.cycle?.cadence ?? 'calendar-month',
      timezone: canonicalTimeZone(a.cycle?.timezone ?? 'UTC'),
      creditFactor: amount(a.creditFactor),
      signupCredits: amount(a.signupCredits),
      managedBy: a.managedBy ?? null,
    },
    groups,
    members,
    ...(config.alerts ? { alerts: normaliseAlerts(config.alerts) } : {}),
  };
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function normaliseAlerts(alerts: NonNullable<ExactConfig['alerts']>): DeclaredAlerts {
  return {
    thresholds: alerts.thresholds.map((t) => canonical(t.text)).sort((a, b) => Number(a) - Number(b)),
    webhooks: (alerts.webhooks ?? [])
      .map((w) => ({
        url: w.url,
        secretEnv: w.secretEnv,
        scopes: ALERT_SCOPES.filter((s) => !w.scopes || w.scopes.includes(s)),
      }))
      .sort((a, b) => byText(a.url, b.url)),
  };
}
