// Stage 3: rules the schema cannot say. Each rule is a pure function of the schema-valid config.
import { dec, fromMicros, toMicros, type Decimal } from '../decimal.js';
import { parseCadence, isValidTimeZone } from './cadence.js';
import { foldEmail } from './normalise.js';
import { pathText, type ConfigIssue } from './config-issue.js';
import type { ExactConfig, ExactGroup } from './exact-config.js';
import { alertRules } from './alert-rules.js';

export type SemanticRule = (config: ExactConfig) => ConfigIssue[];

// Local part and dot-separated domain labels. The schema's member-key pattern is the same (so editors flag
// it; test/config/schema-patterns.test.ts keeps the two equal), and the schema stage reports it first with this
// rule's code; likewise the cadence pattern and cadenceIsKnown.
const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

const groupEntries = (config: ExactConfig): [string, ExactGroup][] =>
  Object.entries(config.groups ?? {}).filter((e): e is [string, ExactGroup] => e[1] !== undefined);

const budgetOf = (g: ExactGroup): Decimal => dec(g.allocation?.text ?? '0').plus(g.extra?.text ?? '0');

export const cadenceIsKnown: SemanticRule = (config) => {
  const cadence = config.account.cycle?.cadence;
  if (cadence === undefined || parseCadence(cadence)) return [];
  return [{ code: 'UNKNOWN_CADENCE', params: { value: cadence }, path: ['account', 'cycle', 'cadence'] }];
};

export const timezoneIsKnown: SemanticRule = (config) => {
  const tz = config.account.cycle?.timezone;
  if (tz === undefined || isValidTimeZone(tz)) return [];
  return [{ code: 'UNKNOWN_TIMEZONE', params: { value: tz }, path: ['account', 'cycle', 'timezone'] }];
};

/** Whether credits.yaml can name this e-mail (the API accepts any `x@y`). */
export const isValidEmail = (email: string): boolean => email.length <= 254 && EMAIL.test(email);

export const emailsAreValid: SemanticRule = (config) => {
  const issues: ConfigIssue[] = [];
  for (const [key, g] of groupEntries(config)) {
    for (const email of Object.keys(g.members ?? {})) {
      if (!isValidEmail(email)) {
        issues.push({
          code: 'BAD_EMAIL',
          params: { value: email },
          path: ['groups', key, 'members', email],
          at: 'key',
        });
      }
    }
  }
  return issues;
};

/** A user belongs to exactly one group, and is written once (e-mails compare case-insensitively). */
export const membersAreUnique: SemanticRule = (config) => {
  const issues: ConfigIssue[] = [];
  const firstSeen = new Map<string, { group: string; email: string }>();
  for (const [key, g] of groupEntries(config)) {
    for (const email of Object.keys(g.members ?? {})) {
      const folded = foldEmail(email);
      const first = firstSeen.get(folded);
      const path = ['groups', key, 'members', email];
      if (!first) {
        firstSeen.set(folded, { group: key, email });
      } else if (first.group === key) {
        issues.push({
          code: 'MEMBER_DUPLICATE',
          params: { email, group: key, otherAt: pathText(['groups', key, 'members', first.email]) },
          path,
          at: 'key',
        });
      } else {
        issues.push({
          code: 'MEMBER_IN_TWO_GROUPS',
          params: {
            email,
            group: key,
            other: first.group,
            otherAt: pathText(['groups', first.group, 'members', first.email]),
          },
          path,
          at: 'key',
        });
      }
    }
  }
  return issues;
};

export const membersFitGroupBudget: SemanticRule = (config) => {
  const issues: ConfigIssue[] = [];
  for (const [key, g] of groupEntries(config)) {
    // Exact millionths in BigInt: 100k members summed without a Decimal per member.
    let micros = 0n;
    // toMicros reads any plain or exponent form exactly (the schema stage already refused more than 6
    // places), so the source text needs no canonical form first.
    for (const m of Object.values(g.members ?? {})) {
      if (m === null || m === undefined) continue;
      if ('text' in m) micros += toMicros(m.text);
      else micros += toMicros(m.allocation?.text ?? '0') + toMicros(m.extra?.text ?? '0');
    }
    const total = dec(fromMicros(micros));
    const budget = budgetOf(g);
    if (total.greaterThan(budget)) {
      issues.push({
        code: 'GROUP_OVER_BUDGET',
        params: { group: key, sum: total.toFixed(), budget: budget.toFixed() },
        path: ['groups', key, 'members'],
        at: 'key',
      });
    }
  }
  return issues;
};

const memberEntries = (g: ExactGroup) =>
  Object.entries(g.members ?? {}).filter(
    (e): e is [string, Exclude<NonNullable<ExactGroup['members']>[string], null | undefined>] =>
      e[1] !== null && e[1] !== undefined,
  );

/** A rollover carries an individual allocation, and never more than a cycle gives (allocation + extra). */
export const rolloverFitsAllocation: SemanticRule = (config) => {
  const issues: ConfigIssue[] = [];
  for (const [key, g] of groupEntries(config)) {
    for (const [email, m] of memberEntries(g)) {
      if ('text' in m || !m.rollover) continue;
      const path = ['groups', key, 'members', email, 'rollover'];
      if (!m.allocation) {
        issues.push({ code: 'ROLLOVER_WITHOUT_ALLOCATION', params: { email }, path, at: 'key' });
        continue;
      }
      const budget = dec(m.allocation.text).plus(m.extra?.text ?? '0');
      const max = dec(m.rollover.max.text);
      if (max.greaterThan(budget)) {
        issues.push({
          code: 'ROLLOVER_OVER_ALLOCATION',
          params: { email, max: max.toFixed(), budget: budget.toFixed() },
          path: [...path, 'max'],
        });
      }
    }
  }
  return issues;
};

/** A group's rollover carries what its pool leaves unused, so it can be no more than the pool. */
export const groupRolloverFitsPool: SemanticRule = (config) => {
  const issues: ConfigIssue[] = [];
  for (const [key, g] of groupEntries(config)) {
    if (!g.rollover) continue;
    let distributed = dec(0);
    for (const [, m] of memberEntries(g)) {
      distributed = distributed.plus(
        'text' in m ? m.text : dec(m.allocation?.text ?? '0').plus(m.extra?.text ?? '0'),
      );
    }
    const pool = budgetOf(g).minus(distributed);
    const max = dec(g.rollover.max.text);
    if (max.greaterThan(pool)) {
      issues.push({
        code: 'ROLLOVER_OVER_POOL',
        params: { group: key, max: max.toFixed(), pool: (pool.isNegative() ? dec(0) : pool).toFixed() },
        path: ['groups', key, 'rollover', 'max'],
      });
    }
  }
  return issues;
};

/**
 * The budget rule of rollover: rolled-over credits are spent within the group and the account like the
 * allocation, and the largest carries the file allows must fit the account's limit with the groups' budgets,
 * so the account level never refuses a carry that the member's own terms allow.
 */
export const rolloversFitAccountLimit: SemanticRule = (config) => {
  let carries = dec(0);
  let total = dec(0);
  for (const [, g] of groupEntries(config)) {
    total = total.plus(budgetOf(g));
    if (g.rollover) carries = carries.plus(g.rollover.max.text);
    for (const [, m] of memberEntries(g)) {
      if (!('text' in m) && m.rollover) carries = carries.plus(m.rollover.max.text);
    }
  }
  const limit = dec(config.account.creditLimit.text);
  // Without carries (or when the groups alone are over) ACCOUNT_OVER_LIMIT says it.
  if (carries.isZero() || total.greaterThan(limit) || !total.plus(carries).greaterThan(limit)) return [];
  return [
    {
      code: 'ROLLOVER_OVER_LIMIT',
      params: { sum: total.plus(carries).toFixed(), limit: limit.toFixed() },
      path: ['account', 'creditLimit'],
    },
  ];
};

export const groupsFitAccountLimit: SemanticRule = (config) => {
  let total = dec(0);
  for (const [, g] of groupEntries(config)) total = total.plus(budgetOf(g));
  const limit = dec(config.account.creditLimit.text);
  if (!total.greaterThan(limit)) return [];
  return [
    {
      code: 'ACCOUNT_OVER_LIMIT',
      params: { sum: total.toFixed(), limit: limit.toFixed() },
      path: ['account', 'creditLimit'],
    },
  ];
};

export const autoApproveFitsGroupBudget: SemanticRule = (config) => {
  const issues: ConfigIssue[] = [];
  for (const [key, g] of groupEntries(config)) {
    if (!g.autoApprove) continue;
    const budget = budgetOf(g);
    if (dec(g.autoApprove.text).greaterThan(budget)) {
      issues.push({
        code: 'AUTO_APPROVE_OVER_BUDGET',
        params: { group: key, autoApprove: dec(g.autoApprove.text).toFixed(), budget: budget.toFixed() },
        path: ['groups', key, 'autoApprove'],
      });
    }
  }
  return issues;
};

export const SEMANTIC_RULES: readonly SemanticRule[] = [
  cadenceIsKnown,
  timezoneIsKnown,
  emailsAreValid,
  membersAreUnique,
  membersFitGroupBudget,
  groupsFitAccountLimit,
  autoApproveFitsGroupBudget,
  rolloverFitsAllocation,
  groupRolloverFitsPool,
  rolloversFitAccountLimit,
  alertRules,
];

export const checkSemantics = (config: ExactConfig): ConfigIssue[] =>
  SEMANTIC_RULES.flatMap((rule) => rule(config));
