// The one table of declared fields: for each field a plan address names (src/plan/address.ts), the column
// that holds it, what kind of value it is, and the name an admin edit gives it (absent: not editable by the
// API). Apply, saved plans and admin edits all write through it (declared/*.ts).
import type { AccountAddressField, GroupAddressField, MemberAddressField } from '../../plan/address.js';

/** amount: numeric, compared as a decimal (`5000` = `5000.000000`); text and boolean: compared as they are. */
export type FieldKind = 'amount' | 'text' | 'boolean';

export interface DeclaredField {
  column: string;
  kind: FieldKind;
  /** The field's name in an admin edit's body (PATCH /v1/settings, /v1/groups/:key, /v1/members/:email). */
  edit?: string;
}

export const ACCOUNT_FIELDS: Record<AccountAddressField, DeclaredField> = {
  name: { column: 'name', kind: 'text', edit: 'name' },
  creditLimit: { column: 'credit_limit', kind: 'amount', edit: 'creditLimit' },
  'cycle.cadence': { column: 'cadence', kind: 'text', edit: 'cadence' },
  'cycle.timezone': { column: 'timezone', kind: 'text', edit: 'timezone' },
  creditFactor: { column: 'credit_factor', kind: 'amount', edit: 'creditFactor' },
  signupCredits: { column: 'signup_credits', kind: 'amount', edit: 'signupCredits' },
  managedBy: { column: 'managed_by', kind: 'text' },
};

export const GROUP_FIELDS: Record<GroupAddressField, DeclaredField> = {
  name: { column: 'name', kind: 'text', edit: 'name' },
  allocation: { column: 'allocation', kind: 'amount', edit: 'allocation' },
  extra: { column: 'extra', kind: 'amount', edit: 'extra' },
  autoApprove: { column: 'auto_approve', kind: 'amount', edit: 'autoApprove' },
  protect: { column: 'protect', kind: 'boolean' },
  // rollover.max; declared by the file only (no admin edit).
  rollover: { column: 'rollover_max', kind: 'amount' },
};

export const MEMBER_FIELDS: Record<MemberAddressField, DeclaredField> = {
  group: { column: 'group_key', kind: 'text', edit: 'group' },
  allocation: { column: 'allocation', kind: 'amount', edit: 'allocation' },
  extra: { column: 'extra', kind: 'amount', edit: 'extra' },
  // rollover.max; declared by the file only (no admin edit).
  rollover: { column: 'rollover_max', kind: 'amount' },
};

/** Columns holding amounts: `5000` and `5000.000000` are the same value there, and nowhere else (names). */
export const AMOUNT_COLUMNS: ReadonlySet<string> = new Set(
  [ACCOUNT_FIELDS, GROUP_FIELDS, MEMBER_FIELDS].flatMap((t) =>
    Object.values(t)
      .filter((f) => f.kind === 'amount')
      .map((f) => f.column),
  ),
);

/** The address field an admin edit's name stands for (`cadence` → `cycle.cadence`), if it is editable. */
export function editedField<F extends string>(table: Record<F, DeclaredField>, name: string): F | undefined {
  return (Object.keys(table) as F[]).find((f) => table[f].edit === name);
}

/** A field's name in the declared state and its JSON (`cycle.cadence` → `cadence`). */
export const stateKey = (field: string): string => field.slice(field.lastIndexOf('.') + 1);

/** The SQL type of a field's kind (for arrays of new rows). */
export const SQL_TYPE: Record<FieldKind, string> = { amount: 'numeric', text: 'text', boolean: 'boolean' };

/**
 * SQL of a jsonb object of a row's declared fields under their declared-state names, amounts as canonical
 * text: what an apply records as applied, so drift is measured from it. `leading` are further
 * `'key', column` pairs (the account's id).
 */
export function appliedObjectSql(table: Record<string, DeclaredField>, leading: string[] = []): string {
  const pairs = Object.entries(table).map(([field, f]) => {
    const value = f.kind === 'amount' ? `trim_scale(${f.column})::text` : f.column;
    return `'${stateKey(field)}', ${value}`;
  });
  return `jsonb_build_object(${[...leading, ...pairs].join(', ')})`;
}
