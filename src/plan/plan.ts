// The plan artifact: plain data. Renderers and apply read only this.

/** 2: the plan carries the database identity and the whole configuration it was made from. */
export const PLAN_FORMAT_VERSION = 2;

export type ChangeAction = 'create' | 'update' | 'delete' | 'move';

/** A value in a change: an amount (decimal string), text, a flag, a whole object (create/delete), or null. */
export type ChangeValue = string | boolean | null | Record<string, string | boolean | null>;

export interface Change {
  /** Stable address (grammar in address.ts): `account.creditLimit`, `group.engineering.allocation`, … */
  address: string;
  action: ChangeAction;
  before: ChangeValue;
  after: ChangeValue;
  /** Immediate consequences worth a reviewer's attention. */
  effects: string[];
  /** For member changes: the member's group after the change (groups the Markdown view by group). */
  group?: string;
  /** The live value was changed outside credits.yaml (dashboard, API, SQL): `applied` is what the file last set. */
  drift?: { applied: ChangeValue };
  /**
   * Advisory, read at plan time (apply recomputes it, a saved plan is not compared on it): for a budget change,
   * what is already used this cycle and what remains after the change.
   */
  spend?: SpendNote;
  /** Advisory: for a drifted value, who changed it outside the file, from the audit log. */
  changedBy?: ChangedBy;
}

export interface SpendNote {
  /** Used this cycle by the member, group or account (usage and live holds). */
  used: string;
  /** The budget after the change (for a member: allocation + extra + grants this cycle). */
  budget: string;
  /** budget − used: negative or zero means blocked as soon as the change applies. */
  remaining: string;
}

export interface ChangedBy {
  /** `api` (an edit through the API or dashboard), `apply`, or `unknown` (no audit row: SQL). */
  source: string;
  /** The audit row's actor (`token:<id>` for API edits), when known. */
  actor?: string;
  at?: string;
}

/** Coded, advisory: listed first in the Markdown comment; `credits plan --fail-on-warning` exits 1 on any. */
export interface PlanWarning {
  code: string;
  /** The change it is about, when it is about one. */
  address?: string;
  message: string;
}

export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
  move: number;
}

export interface Plan {
  formatVersion: typeof PLAN_FORMAT_VERSION;
  account: string;
  /** The database the plan was made on (database_identity, written once by migrate). Set by makePlan. */
  databaseId?: string;
  /** The state serial the plan was made from; apply refuses when it moved. 0 for a new account. */
  stateSerial: number;
  /**
   * accounts.declared_version the plan was made from (null: no account). Not part of what a saved plan
   * must match (signups move it without changing the plan); it only tells a stale plan from an edited one.
   */
  declaredVersion?: number | null;
  configDigest: string;
  createdAt: string;
  summary: PlanSummary;
  changes: Change[];
  warnings: PlanWarning[];
  /**
   * The text of the configuration the plan was made from, whole (its UTF-8 encoding is the file's bytes, so
   * configDigest is its digest): `credits apply plan.json` plans it again and compares.
   */
  config?: string;
}

export const emptySummary = (): PlanSummary => ({ create: 0, update: 0, delete: 0, move: 0 });

export const hasChanges = (plan: Plan): boolean => plan.changes.length > 0;
