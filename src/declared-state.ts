// The normalised declared state: what credits.yaml says, and what live state is read back as, in one shape.
// Both sides are normalised to this before diffing (Atlas style), so the diff compares like with like.

export const DEFAULT_GROUP = 'default';

/** Amounts are canonical decimal strings (see src/decimal.ts). */
export interface DeclaredAccount {
  id: string;
  name: string;
  creditLimit: string;
  cadence: string;
  timezone: string;
  creditFactor: string;
  signupCredits: string;
  managedBy: 'git' | null;
}

export interface DeclaredGroup {
  key: string;
  name: string;
  allocation: string;
  extra: string;
  autoApprove: string;
  protect: boolean;
  /** What of the pool goes unused carries into the next cycle, at most this (absent: none). */
  rollover?: string;
}

export interface DeclaredMember {
  /** Lower-cased e-mail, the member's identity. */
  email: string;
  group: string;
  /** null: draws from the group pool. */
  allocation: string | null;
  extra: string;
  /** Unused allocation carried into the next cycle, at most this (absent: none). */
  rollover?: string;
}

export const ALERT_SCOPES = ['member', 'group', 'account'] as const;
export type AlertScope = (typeof ALERT_SCOPES)[number];

export interface DeclaredWebhook {
  url: string;
  /** The name of the environment variable of `credits serve` that holds the signing secret. */
  secretEnv: string;
  /** In ALERT_SCOPES order. */
  scopes: AlertScope[];
}

export interface DeclaredAlerts {
  /** Percentages, canonical decimal strings, ascending. */
  thresholds: string[];
  /** Sorted by url. */
  webhooks: DeclaredWebhook[];
}

export interface DeclaredState {
  account: DeclaredAccount;
  /** Absent or empty: no alerts. */
  alerts?: DeclaredAlerts;
  /** Sorted by key; always contains the Default group. */
  groups: DeclaredGroup[];
  /** Sorted by e-mail. */
  members: DeclaredMember[];
}
