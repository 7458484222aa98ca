// Plan addresses as a typed grammar: what a change names, built and parsed in one place.
//
//   account                        create
//   account.<accountField>         update     name | creditLimit | cycle.cadence | cycle.timezone | …
//   group.<key>                    create | delete
//   group.<key>.<groupField>       update     name | allocation | extra | autoApprove | protect | rollover
//   member.<email>                 create | delete
//   member.<email>.<memberField>   update (allocation, extra, rollover) | move (group)
//   alerts.threshold.<percent>     create | delete
//   alerts.webhook.<url>           create | delete
//   alerts.webhook.<url>.<field>   update     secretEnv | scopes
//
// An e-mail holds dots, and `bob@corp.group` is a real address, so the text alone is ambiguous between
// "the member bob@corp.group" and "the group field of bob@corp": the action decides (create/delete name an
// object, update/move a field of it). Parsing follows the grammar, never a split on dots.
import type { ChangeAction } from './plan.js';

export const ACCOUNT_FIELDS = [
  'name',
  'creditLimit',
  'cycle.cadence',
  'cycle.timezone',
  'creditFactor',
  'signupCredits',
  'managedBy',
] as const;
export const GROUP_FIELDS = ['name', 'allocation', 'extra', 'autoApprove', 'protect', 'rollover'] as const;
export const MEMBER_FIELDS = ['group', 'allocation', 'extra', 'rollover'] as const;
export const WEBHOOK_FIELDS = ['secretEnv', 'scopes'] as const;

export type AccountAddressField = (typeof ACCOUNT_FIELDS)[number];
export type GroupAddressField = (typeof GROUP_FIELDS)[number];
export type MemberAddressField = (typeof MEMBER_FIELDS)[number];
export type WebhookAddressField = (typeof WEBHOOK_FIELDS)[number];

export type Address =
  | { kind: 'account'; field?: AccountAddressField }
  | { kind: 'group'; key: string; field?: GroupAddressField }
  | { kind: 'member'; email: string; field?: MemberAddressField }
  | { kind: 'threshold'; percent: string }
  | { kind: 'webhook'; url: string; field?: WebhookAddressField };

// Group keys and e-mails as the configuration admits them (schema and semantic rules), loosened only where
// live data may predate a rule: any local part without `@` or blanks, dot-separated domain labels.
const GROUP_KEY = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const EMAIL = /^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)*$/;
const PERCENT = /^(?:100|[0-9]{1,2})(?:\.[0-9]{1,2})?$/;
const URL_TEXT = /^https?:\/\/\S+$/;

export const accountAddress = (field?: AccountAddressField): string =>
  field ? `account.${field}` : 'account';
export const groupAddress = (key: string, field?: GroupAddressField): string =>
  field ? `group.${key}.${field}` : `group.${key}`;
export const memberAddress = (email: string, field?: MemberAddressField): string =>
  field ? `member.${email}.${field}` : `member.${email}`;

export const thresholdAddress = (percent: string): string => `alerts.threshold.${percent}`;
export const webhookAddress = (url: string, field?: WebhookAddressField): string =>
  field ? `alerts.webhook.${url}.${field}` : `alerts.webhook.${url}`;

export function formatAddress(a: Address): string {
  if (a.kind === 'account') return accountAddress(a.field);
  if (a.kind === 'group') return groupAddress(a.key, a.field);
  if (a.kind === 'threshold') return thresholdAddress(a.percent);
  if (a.kind === 'webhook') return webhookAddress(a.url, a.field);
  return memberAddress(a.email, a.field);
}

const oneOf = <T extends string>(list: readonly T[], value: string): T | undefined =>
  (list as readonly string[]).includes(value) ? (value as T) : undefined;

/** The field after the last dot of `rest`, when it is one of `fields`, and what precedes it. */
function splitField<T extends string>(rest: string, fields: readonly T[]): [string, T] | undefined {
  const dot = rest.lastIndexOf('.');
  const field = dot < 0 ? undefined : oneOf(fields, rest.slice(dot + 1));
  return field ? [rest.slice(0, dot), field] : undefined;
}

/**
 * The address of a change with this action, or undefined when it is not one of the grammar (an unknown
 * address, or one that names an object where the action needs a field, or the reverse).
 */
export function parseAddress(address: string, action: ChangeAction): Address | undefined {
  const whole = action === 'create' || action === 'delete';
  if (address === 'account') return action === 'create' ? { kind: 'account' } : undefined;
  if (address.startsWith('account.')) {
    const field = oneOf(ACCOUNT_FIELDS, address.slice('account.'.length));
    return field && action === 'update' ? { kind: 'account', field } : undefined;
  }
  if (address.startsWith('group.')) {
    const rest = address.slice('group.'.length);
    if (whole) return GROUP_KEY.test(rest) ? { kind: 'group', key: rest } : undefined;
    const parts = splitField(rest, GROUP_FIELDS);
    return parts && action === 'update' && GROUP_KEY.test(parts[0])
      ? { kind: 'group', key: parts[0], field: parts[1] }
      : undefined;
  }
  if (address.startsWith('member.')) {
    const rest = address.slice('member.'.length);
    if (whole) return EMAIL.test(rest) ? { kind: 'member', email: rest } : undefined;
    const parts = splitField(rest, MEMBER_FIELDS);
    if (!parts || !EMAIL.test(parts[0])) return undefined;
    // A move changes the group; an update changes an amount.
    if ((parts[1] === 'group') !== (action === 'move')) return undefined;
    return { kind: 'member', email: parts[0], field: parts[1] };
  }
  if (address.startsWith('alerts.threshold.')) {
    const percent = address.slice('alerts.threshold.'.length);
    return whole && PERCENT.test(percent) ? { kind: 'threshold', percent } : undefined;
  }
  if (address.startsWith('alerts.webhook.')) {
    // A url holds dots, so, as for e-mails, the action tells the webhook from a field of it.
    const rest = address.slice('alerts.webhook.'.length);
    if (whole) return URL_TEXT.test(rest) ? { kind: 'webhook', url: rest } : undefined;
    const parts = splitField(rest, WEBHOOK_FIELDS);
    return parts && action === 'update' && URL_TEXT.test(parts[0])
      ? { kind: 'webhook', url: parts[0], field: parts[1] }
      : undefined;
  }
  return undefined;
}
