// loadConfig on valid input: the shipped examples load, numbers stay exact, defaults are filled in, e-mails are
// case-folded; and each semantic rule of src/config/semantic-rules.ts with a passing and a failing case.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig, type LoadResult } from '../../src/config/load-config.js';
import { parseYamlExact } from '../../src/config/parse-yaml.js';
import { checkSchema } from '../../src/config/schema-check.js';
import {
  autoApproveFitsGroupBudget,
  rolloverFitsAllocation,
  groupRolloverFitsPool,
  rolloversFitAccountLimit,
  cadenceIsKnown,
  emailsAreValid,
  groupsFitAccountLimit,
  membersAreUnique,
  membersFitGroupBudget,
  SEMANTIC_RULES,
  timezoneIsKnown,
  type SemanticRule,
} from '../../src/config/semantic-rules.js';
import { alertRules } from '../../src/config/alert-rules.js';
import type { ExactConfig } from '../../src/config/exact-config.js';
import type { DeclaredState } from '../../src/declared-state.js';
import type { CreditsError } from '../../src/errors.js';

const repoFile = (path: string): Buffer =>
  readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)));

function desiredOf(result: LoadResult): DeclaredState {
  if (!result.ok)
    throw new Error(`expected the file to load:\n${result.errors.map((e) => e.message).join('\n')}`);
  return result.desired;
}

function errorsOf(result: LoadResult): CreditsError[] {
  if (result.ok) throw new Error('expected the file to be refused, but it loaded');
  return result.errors;
}

const load = (text: string): LoadResult => loadConfig(text, { file: 'credits.yaml' });

/** A file with one account (creditLimit 100000 unless given) and the given `groups:` body. */
const file = (groups: string, account = '  creditLimit: 100000\n'): string =>
  `version: 1\naccount:\n  id: acme\n${account}groups:\n${groups}`;

/** Codes and positions of a refused file, for compact assertions. */
const failures = (text: string): [string, number, number][] =>
  errorsOf(load(text)).map((e) => [e.code, e.position!.line, e.position!.col]);

/** The issues one rule alone finds in a schema-valid file. */
function ruleIssues(rule: SemanticRule, text: string): string[] {
  const parsed = parseYamlExact(text);
  if (!parsed.ok) throw new Error('not YAML');
  expect(checkSchema(parsed.value)).toEqual([]);
  return rule(parsed.value as ExactConfig).map((issue) => issue.code);
}

/**
 * The issues of one rule the schema also says (cadence, e-mail), on a file the schema refuses with the same
 * codes: the schema stage reports them first (so editors see them too), the rule would say the same.
 */
function schemaAndRuleIssues(rule: SemanticRule, text: string): string[] {
  const parsed = parseYamlExact(text);
  if (!parsed.ok) throw new Error('not YAML');
  const fromRule = rule(parsed.value as ExactConfig).map((issue) => issue.code);
  expect(checkSchema(parsed.value).map((issue) => issue.code)).toEqual(fromRule);
  return fromRule;
}

describe('valid files load', () => {
  it('examples/small.yaml', () => {
    const desired = desiredOf(loadConfig(repoFile('examples/small.yaml'), { file: 'examples/small.yaml' }));
    expect(desired.account).toMatchObject({ id: 'tinyco', name: 'Tiny Co', creditLimit: '10000' });
    expect(desired.groups.map((g) => g.key)).toEqual(['default', 'team']);
    expect(desired.members).toEqual([
      { email: 'ana@tinyco.io', group: 'team', allocation: '2000', extra: '0' },
      { email: 'ben@tinyco.io', group: 'team', allocation: '1500', extra: '250.5' },
      { email: 'cleo@tinyco.io', group: 'team', allocation: null, extra: '0' },
    ]);
  });

  it('examples/company.yaml', () => {
    const desired = desiredOf(
      loadConfig(repoFile('examples/company.yaml'), { file: 'examples/company.yaml' }),
    );
    expect(desired.account).toMatchObject({
      id: 'northwind',
      timezone: 'Europe/Berlin',
      cadence: 'calendar-month',
      managedBy: 'git',
      signupCredits: '50',
    });
    expect(desired.groups.map((g) => g.key)).toEqual([
      'data-science',
      'default',
      'engineering',
      'marketing',
      'support',
    ]);
    expect(desired.groups.find((g) => g.key === 'engineering')).toMatchObject({
      protect: true,
      extra: '10000',
    });
    expect(desired.members).toHaveLength(14);
  });

  it('credits.yaml', () => {
    const desired = desiredOf(loadConfig(repoFile('credits.yaml'), { file: 'credits.yaml' }));
    expect(desired.account.id).toBe('acme');
    expect(desired.groups.find((g) => g.key === 'default')).toMatchObject({
      name: 'Default',
      allocation: '10000',
    });
  });

  it('the same text as a string and as bytes (with a UTF-8 BOM) loads the same', () => {
    const text = repoFile('examples/small.yaml').toString('utf8');
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    expect(desiredOf(loadConfig(bom, { file: 'f' }))).toEqual(desiredOf(load(text)));
  });

  it('UTF-8 names survive', () => {
    const desired = desiredOf(
      load(file('', '  name: Café Zoë 東京\n  creditLimit: 1\n').replace('groups:\n', '')),
    );
    expect(desired.account.name).toBe('Café Zoë 東京');
  });
});

describe('numbers are exact', () => {
  const allocationOf = (written: string): string => {
    const desired = desiredOf(
      load(file(`  team:\n    allocation: ${written}\n`, '  creditLimit: 1000000000000000\n')),
    );
    return desired.groups.find((g) => g.key === 'team')!.allocation;
  };

  it.each([
    ['0.1', '0.1'],
    ['1e3', '1000'],
    ['0x10', '16'],
    ['0o17', '15'],
    ['5000.50', '5000.5'],
    ['1.000000', '1'],
    ['2.5e-3', '0.0025'],
    ['0.000001', '0.000001'],
    ['999999999999999.999999', '999999999999999.999999'],
    ['+7', '7'],
    ['-0', '0'],
  ])('allocation: %s → "%s"', (written, canonical) => {
    expect(allocationOf(written)).toBe(canonical);
  });

  it('the parsed config keeps the number as written', () => {
    const result = load(file('  team:\n    allocation: 5000.50\n'));
    if (!result.ok) throw new Error('expected ok');
    expect(result.config.groups!.team!.allocation!.text).toBe('5000.50');
  });

  it('member amounts are exact too', () => {
    const desired = desiredOf(
      load(
        file(
          '  team:\n    allocation: 1\n    members:\n      a@acme.com: { allocation: 0.1, extra: 0.20 }\n',
        ),
      ),
    );
    expect(desired.members).toEqual([
      { email: 'a@acme.com', group: 'team', allocation: '0.1', extra: '0.2' },
    ]);
  });
});

describe('defaults', () => {
  const minimal = 'version: 1\naccount:\n  id: acme\n  creditLimit: 100\n';

  it('account: name = id, creditFactor 0, signupCredits 0, calendar-month in UTC, not managed', () => {
    expect(desiredOf(load(minimal)).account).toEqual({
      id: 'acme',
      name: 'acme',
      creditLimit: '100',
      cadence: 'calendar-month',
      timezone: 'UTC',
      creditFactor: '0',
      signupCredits: '0',
      managedBy: null,
    });
  });

  it('a cycle with only a cadence keeps timezone UTC; only a timezone keeps calendar-month', () => {
    const cadenceOnly = desiredOf(load(`${minimal}  cycle:\n    cadence: 1w\n`)).account;
    expect([cadenceOnly.cadence, cadenceOnly.timezone]).toEqual(['1w', 'UTC']);
    const zoneOnly = desiredOf(load(`${minimal}  cycle:\n    timezone: Asia/Tokyo\n`)).account;
    expect([zoneOnly.cadence, zoneOnly.timezone]).toEqual(['calendar-month', 'Asia/Tokyo']);
  });

  it('the Default group is present with allocation 0 when not written', () => {
    expect(desiredOf(load(minimal)).groups).toEqual([
      { key: 'default', name: 'Default', allocation: '0', extra: '0', autoApprove: '0', protect: false },
    ]);
  });

  it('a group: name = key, extra 0, autoApprove 0, not protected; a member `{}` or empty draws from the pool', () => {
    const desired = desiredOf(
      load(file('  team:\n    allocation: 50\n    members:\n      a@acme.com: {}\n      b@acme.com:\n')),
    );
    expect(desired.groups.find((g) => g.key === 'team')).toEqual({
      key: 'team',
      name: 'team',
      allocation: '50',
      extra: '0',
      autoApprove: '0',
      protect: false,
    });
    expect(desired.members).toEqual([
      { email: 'a@acme.com', group: 'team', allocation: null, extra: '0' },
      { email: 'b@acme.com', group: 'team', allocation: null, extra: '0' },
    ]);
  });

  it('a written default group keeps the name Default', () => {
    const desired = desiredOf(load(file('  default:\n    allocation: 5\n    extra: 1\n')));
    expect(desired.groups).toEqual([
      { key: 'default', name: 'Default', allocation: '5', extra: '1', autoApprove: '0', protect: false },
    ]);
  });

  // The group-key pattern excludes `default`, so the ordinary group's `required: [allocation]` does not apply.
  it('the default group may leave allocation out', () => {
    const desired = desiredOf(load(file('  default:\n    autoApprove: 0\n')));
    expect(desired.groups.find((g) => g.key === 'default')!.allocation).toBe('0');
  });
});

describe('e-mails', () => {
  it('are case-folded', () => {
    const desired = desiredOf(
      load(
        file(
          '  team:\n    allocation: 10\n    members:\n      Alice.Smith@ACME.com: 1\n      BOB@Acme.Com: {}\n',
        ),
      ),
    );
    expect(desired.members.map((m) => m.email)).toEqual(['alice.smith@acme.com', 'bob@acme.com']);
  });
});

describe('semantic rules', () => {
  it('every rule of SEMANTIC_RULES has a describe block of its own in this file', () => {
    const source = readFileSync(fileURLToPath(import.meta.url), 'utf8');
    expect(SEMANTIC_RULES.length).toBeGreaterThanOrEqual(7);
    for (const rule of SEMANTIC_RULES) {
      expect(rule.name, 'a semantic rule must be a named function').not.toBe('');
      expect(source, `no describe('${rule.name}') in this file`).toContain(`describe('${rule.name}'`);
    }
  });

  const withCycle = (cycle: string): string =>
    `version: 1\naccount:\n  id: acme\n  creditLimit: 100\n  cycle:\n${cycle}`;

  describe('cadenceIsKnown', () => {
    it.each(['calendar-month', '15d', '1w', '1d', '1h', '12h', '24h', '1m', '30m', '1440m'])(
      'cadenceIsKnown: %s passes',
      (cadence) => {
        expect(ruleIssues(cadenceIsKnown, withCycle(`    cadence: ${cadence}\n`))).toEqual([]);
        expect(desiredOf(load(withCycle(`    cadence: ${cadence}\n`))).account.cadence).toBe(cadence);
      },
    );

    it.each(['monthly', '25h', '1441m', '0h', '2w', '30d', '1.5h', '01h', '"12 h"', 'Calendar-Month', '""'])(
      'cadenceIsKnown: %s fails with UNKNOWN_CADENCE at the value',
      (cadence) => {
        expect(schemaAndRuleIssues(cadenceIsKnown, withCycle(`    cadence: ${cadence}\n`))).toEqual([
          'UNKNOWN_CADENCE',
        ]);
        expect(failures(withCycle(`    cadence: ${cadence}\n`))).toEqual([['UNKNOWN_CADENCE', 6, 14]]);
      },
    );
  });

  describe('timezoneIsKnown', () => {
    it.each(['UTC', 'Europe/Berlin', 'America/Argentina/Buenos_Aires', 'Asia/Kolkata'])(
      'timezoneIsKnown: %s passes',
      (tz) => {
        expect(ruleIssues(timezoneIsKnown, withCycle(`    timezone: ${tz}\n`))).toEqual([]);
        expect(desiredOf(load(withCycle(`    timezone: ${tz}\n`))).account.timezone).toBe(tz);
      },
    );

    it.each(['Europe/Berln', 'Mars/Olympus_Mons', 'CEST+1', '""'])(
      'timezoneIsKnown: %s fails with UNKNOWN_TIMEZONE at the value',
      (tz) => {
        expect(ruleIssues(timezoneIsKnown, withCycle(`    timezone: ${tz}\n`))).toEqual(['UNKNOWN_TIMEZONE']);
        expect(failures(withCycle(`    timezone: ${tz}\n`))).toEqual([['UNKNOWN_TIMEZONE', 6, 15]]);
      },
    );
  });

  const oneMember = (email: string): string =>
    file(`  team:\n    allocation: 10\n    members:\n      ${email}: 1\n`);

  describe('emailsAreValid', () => {
    it.each([
      'alice@acme.com',
      'alice.smith+ai@mail.acme.co.uk',
      "o'brien@acme.com",
      'x_1@a-b.io',
      '"Bob@Acme.COM"',
    ])('emailsAreValid: %s passes', (email) => {
      expect(ruleIssues(emailsAreValid, oneMember(email))).toEqual([]);
      expect(load(oneMember(email)).ok).toBe(true);
    });

    it.each([
      'alice@acme',
      'alice@-acme.com',
      'alice@acme..com',
      'alice@acme.com.',
      `${'a'.repeat(250)}@acme.com`,
    ])('emailsAreValid: %s fails with BAD_EMAIL at the key', (email) => {
      expect(schemaAndRuleIssues(emailsAreValid, oneMember(email))).toEqual(['BAD_EMAIL']);
      expect(failures(oneMember(email))).toEqual([['BAD_EMAIL', 9, 7]]);
    });

    it('emailsAreValid: a key without @ is refused by the schema with the same code', () => {
      expect(failures(oneMember('alice.acme.com'))).toEqual([['BAD_EMAIL', 9, 7]]);
    });
  });

  describe('membersAreUnique', () => {
    const twoGroups = (a: string, b: string): string =>
      file(
        `  one:\n    allocation: 10\n    members:\n      ${a}: {}\n` +
          `  two:\n    allocation: 10\n    members:\n      ${b}: {}\n`,
      );

    it('membersAreUnique: distinct e-mails in two groups pass', () => {
      const text = twoGroups('alice@acme.com', 'alice@acme.org');
      expect(ruleIssues(membersAreUnique, text)).toEqual([]);
      expect(desiredOf(load(text)).members).toHaveLength(2);
    });

    it('membersAreUnique: the same e-mail in two groups fails with MEMBER_IN_TWO_GROUPS at the second', () => {
      const text = twoGroups('alice@acme.com', 'Alice@Acme.com');
      expect(ruleIssues(membersAreUnique, text)).toEqual(['MEMBER_IN_TWO_GROUPS']);
      expect(failures(text)).toEqual([['MEMBER_IN_TWO_GROUPS', 13, 7]]);
      expect(errorsOf(load(text))[0]!.message).toBe(
        'member Alice@Acme.com is in group two and also in one (groups.one.members.alice@acme.com)',
      );
    });

    it('membersAreUnique: a member of a group and of default is in two groups', () => {
      const text = file(
        '  team:\n    allocation: 10\n    members:\n      a@acme.com: {}\n' +
          '  default:\n    allocation: 0\n    members:\n      a@acme.com: {}\n',
      );
      expect(failures(text)).toEqual([['MEMBER_IN_TWO_GROUPS', 13, 7]]);
    });

    it('membersAreUnique: the same e-mail twice in one group, differing in case, fails with MEMBER_DUPLICATE', () => {
      const text = file(
        '  team:\n    allocation: 10\n    members:\n      bob@acme.com: 1\n      BOB@acme.com: 2\n',
      );
      expect(ruleIssues(membersAreUnique, text)).toEqual(['MEMBER_DUPLICATE']);
      expect(failures(text)).toEqual([['MEMBER_DUPLICATE', 10, 7]]);
    });
  });

  describe('membersFitGroupBudget', () => {
    const group = (budget: string, members: string): string =>
      file(`  team:\n${budget}    members:\n${members}`, '  creditLimit: 1000\n');

    it('membersFitGroupBudget: members 0.1 + 0.2 in a group of 0.3 pass (they would not with floats)', () => {
      const text = group('    allocation: 0.3\n', '      a@acme.com: 0.1\n      b@acme.com: 0.2\n');
      expect(0.1 + 0.2 > 0.3).toBe(true);
      expect(ruleIssues(membersFitGroupBudget, text)).toEqual([]);
      expect(load(text).ok).toBe(true);
    });

    it("membersFitGroupBudget: members' allocation + extra may use the group's allocation + extra exactly", () => {
      const text = group(
        '    allocation: 0.2\n    extra: 0.1\n',
        '      a@acme.com: { allocation: 0.1, extra: 0.1 }\n      b@acme.com: { extra: 0.1 }\n      c@acme.com: {}\n',
      );
      expect(ruleIssues(membersFitGroupBudget, text)).toEqual([]);
    });

    it('membersFitGroupBudget: one millionth over fails with GROUP_OVER_BUDGET at `members`', () => {
      const text = group('    allocation: 0.3\n', '      a@acme.com: 0.1\n      b@acme.com: 0.200001\n');
      expect(ruleIssues(membersFitGroupBudget, text)).toEqual(['GROUP_OVER_BUDGET']);
      expect(failures(text)).toEqual([['GROUP_OVER_BUDGET', 8, 5]]);
      expect(errorsOf(load(text))[0]!.message).toBe(
        "members of group team are given 0.300001 (allocation + extra), more than the group's 0.3",
      );
    });

    it("membersFitGroupBudget: members' extra counts", () => {
      const text = group('    allocation: 1\n', '      a@acme.com: { allocation: 1, extra: 0.000001 }\n');
      expect(ruleIssues(membersFitGroupBudget, text)).toEqual(['GROUP_OVER_BUDGET']);
    });
  });

  describe('groupsFitAccountLimit', () => {
    it('groupsFitAccountLimit: groups 0.1 + 0.2 within a creditLimit of 0.3 pass', () => {
      const text = file(
        '  a:\n    allocation: 0.1\n  b:\n    allocation: 0.1\n    extra: 0.1\n',
        '  creditLimit: 0.3\n',
      );
      expect(ruleIssues(groupsFitAccountLimit, text)).toEqual([]);
      expect(load(text).ok).toBe(true);
    });

    it('groupsFitAccountLimit: over the limit by one millionth fails with ACCOUNT_OVER_LIMIT at creditLimit', () => {
      const text = file(
        '  a:\n    allocation: 0.1\n  b:\n    allocation: 0.200001\n',
        '  creditLimit: 0.3\n',
      );
      expect(ruleIssues(groupsFitAccountLimit, text)).toEqual(['ACCOUNT_OVER_LIMIT']);
      expect(failures(text)).toEqual([['ACCOUNT_OVER_LIMIT', 4, 16]]);
    });

    it('groupsFitAccountLimit: the default group counts', () => {
      const text = file('  a:\n    allocation: 60\n  default:\n    allocation: 50\n', '  creditLimit: 100\n');
      expect(ruleIssues(groupsFitAccountLimit, text)).toEqual(['ACCOUNT_OVER_LIMIT']);
    });
  });

  describe('autoApproveFitsGroupBudget', () => {
    const team = (amounts: string): string => file(`  team:\n${amounts}`);

    it("autoApproveFitsGroupBudget: autoApprove 0.3 fits the group's allocation 0.1 + extra 0.2", () => {
      const text = team('    allocation: 0.1\n    extra: 0.2\n    autoApprove: 0.3\n');
      expect(ruleIssues(autoApproveFitsGroupBudget, text)).toEqual([]);
      expect(load(text).ok).toBe(true);
    });

    it('autoApproveFitsGroupBudget: autoApprove 0.300001 fails with AUTO_APPROVE_OVER_BUDGET at the value', () => {
      const text = team('    allocation: 0.1\n    extra: 0.2\n    autoApprove: 0.300001\n');
      expect(ruleIssues(autoApproveFitsGroupBudget, text)).toEqual(['AUTO_APPROVE_OVER_BUDGET']);
      expect(failures(text)).toEqual([['AUTO_APPROVE_OVER_BUDGET', 9, 18]]);
    });

    it('autoApproveFitsGroupBudget: applies to the default group too', () => {
      const text = file('  default:\n    allocation: 1\n    autoApprove: 2\n');
      expect(ruleIssues(autoApproveFitsGroupBudget, text)).toEqual(['AUTO_APPROVE_OVER_BUDGET']);
    });
  });

  // More cases, with positions, in test/alerts/alerts-config.test.ts.
  describe('alertRules', () => {
    const withAlerts = (alerts: string): string =>
      file('', '  creditLimit: 100\n').replace('groups:\n', alerts);

    it('alertRules: thresholds with 2 places and distinct urls pass', () => {
      const text = withAlerts(
        'alerts:\n  thresholds: [99.5, 50]\n  webhooks:\n    - url: https://a.example\n      secretEnv: A\n',
      );
      expect(ruleIssues(alertRules, text)).toEqual([]);
    });

    it('alertRules: 3 decimal places, a url twice, plain http elsewhere fail', () => {
      const text = withAlerts(
        'alerts:\n  thresholds: [99.125, 80]\n  webhooks:\n    - url: https://a.example\n      secretEnv: A\n' +
          '    - url: https://a.example\n      secretEnv: B\n    - url: http://b.example\n      secretEnv: C\n',
      );
      expect(ruleIssues(alertRules, text)).toEqual([
        'ALERT_THRESHOLD_RANGE',
        'ALERT_WEBHOOK_DUPLICATE',
        'ALERT_BAD_URL',
      ]);
    });
  });

  describe('rolloverFitsAllocation', () => {
    const member = (value: string): string =>
      file(`  team:\n    allocation: 100\n    members:\n      a@acme.com: ${value}\n`);

    it('rolloverFitsAllocation: a max of allocation + extra fits; one millionth more does not', () => {
      expect(
        ruleIssues(rolloverFitsAllocation, member('{ allocation: 1, extra: 2, rollover: { max: 3 } }')),
      ).toEqual([]);
      expect(
        ruleIssues(
          rolloverFitsAllocation,
          member('{ allocation: 1, extra: 2, rollover: { max: 3.000001 } }'),
        ),
      ).toEqual(['ROLLOVER_OVER_ALLOCATION']);
    });

    it('rolloverFitsAllocation: a pool member (no allocation) has nothing of their own to carry', () => {
      expect(ruleIssues(rolloverFitsAllocation, member('{ extra: 2, rollover: { max: 1 } }'))).toEqual([
        'ROLLOVER_WITHOUT_ALLOCATION',
      ]);
    });
  });

  describe('groupRolloverFitsPool', () => {
    const team = (max: string): string =>
      file(`  team:\n    allocation: 10\n    rollover: { max: ${max} }\n    members:\n      a@acme.com: 4\n`);

    it('groupRolloverFitsPool: a max of the pool (allocation + extra − members) fits; one millionth more does not', () => {
      expect(ruleIssues(groupRolloverFitsPool, team('6'))).toEqual([]);
      expect(ruleIssues(groupRolloverFitsPool, team('6.000001'))).toEqual(['ROLLOVER_OVER_POOL']);
    });
  });

  describe('rolloversFitAccountLimit', () => {
    const two = (limit: string): string =>
      file(
        '  a:\n    allocation: 50\n    members:\n      x@acme.com: { allocation: 50, rollover: { max: 5 } }\n' +
          '  b:\n    allocation: 40\n    members:\n      y@acme.com: { allocation: 10, rollover: { max: 5 } }\n',
        `  creditLimit: ${limit}\n`,
      );

    it("rolloversFitAccountLimit: the groups' budgets and every member's max within the limit pass", () => {
      expect(ruleIssues(rolloversFitAccountLimit, two('100'))).toEqual([]);
    });

    it('rolloversFitAccountLimit: one millionth over fails with ROLLOVER_OVER_LIMIT at creditLimit', () => {
      expect(ruleIssues(rolloversFitAccountLimit, two('99.999999'))).toEqual(['ROLLOVER_OVER_LIMIT']);
      expect(failures(two('99.999999'))).toEqual([['ROLLOVER_OVER_LIMIT', 4, 16]]);
    });
  });
});

describe('time zone spelling', () => {
  it('a case-only difference normalises to one zone, so it plans as no change', () => {
    const file = (tz: string) =>
      `version: 1\naccount:\n  id: acme\n  creditLimit: 10\n  cycle:\n    timezone: ${tz}\ngroups: {}\n`;
    const zone = (tz: string) => {
      const r = loadConfig(file(tz), { file: 'c.yaml' });
      if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
      return r.desired.account.timezone;
    };
    expect(zone('europe/berlin')).toBe('Europe/Berlin');
    expect(zone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(zone('US/Pacific')).toBe('America/Los_Angeles');
  });
});

describe('the 10^15 maximum', () => {
  const file = (limit: string) => `version: 1\naccount:\n  id: acme\n  creditLimit: ${limit}\ngroups: {}\n`;
  it('is decided exactly, not on a float that rounds a millionth away', () => {
    expect(loadConfig(file('1000000000000000'), { file: 'c.yaml' }).ok).toBe(true);
    expect(loadConfig(file('999999999999999.999999'), { file: 'c.yaml' }).ok).toBe(true);
    const over = loadConfig(file('1000000000000000.000001'), { file: 'c.yaml' });
    expect(over.ok).toBe(false);
    if (over.ok) return;
    expect(over.errors.map((e) => [e.code, e.message])).toEqual([
      ['NUMBER_TOO_LARGE', 'account.creditLimit is larger than 10^15 (1000000000000000.000001)'],
    ]);
  });
});

describe('time zone aliases', () => {
  const withZone = (tz: string): string =>
    `version: 1\naccount:\n  id: acme\n  creditLimit: 100\n  cycle:\n    timezone: ${tz}\n`;

  it('every name of one zone normalises to the same canonical name, so renaming it plans no change', () => {
    const stored = ['us/eastern', 'US/Eastern', 'America/New_York', 'america/new_york'].map(
      (tz) => desiredOf(load(withZone(tz))).account.timezone,
    );
    expect(stored).toEqual(['America/New_York', 'America/New_York', 'America/New_York', 'America/New_York']);
  });
});
