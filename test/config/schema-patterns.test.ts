// The schema's patterns say what the semantic rules say (so the editor and `credits validate` agree): the
// cadence pattern accepts exactly what parseCadence accepts, the member-key pattern exactly the e-mails
// emailsAreValid accepts, the group-key pattern exactly the slugs.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { parseCadence } from '../../src/config/cadence.js';
import { emailsAreValid } from '../../src/config/semantic-rules.js';
import type { ExactConfig } from '../../src/config/exact-config.js';

interface Schema {
  $defs: {
    cycle: { properties: { cadence: { pattern: string } } };
    members: { propertyNames: { pattern: string } };
    account: { properties: { id: { pattern: string } } };
  };
  properties: { groups: { propertyNames: { pattern: string } } };
}

const schema = JSON.parse(
  readFileSync(new URL('../../schema/credits.schema.json', import.meta.url), 'utf8'),
) as Schema;
// Editors and ajv compile patterns with the `u` flag.
const cadencePattern = new RegExp(schema.$defs.cycle.properties.cadence.pattern, 'u');
const emailPattern = new RegExp(schema.$defs.members.propertyNames.pattern, 'u');

const ruleAcceptsEmail = (email: string): boolean =>
  emailsAreValid({
    account: { id: 'a' },
    groups: { g: { members: { [email]: null } } },
  } as unknown as ExactConfig).length === 0;

describe('cadence pattern', () => {
  const candidates = [
    ...['calendar-month', '15d', '1w', '1d', '2d', '2w', 'monthly', '', 'Calendar-Month', ' 1d', '1d '],
    ...Array.from({ length: 1600 }, (_, n) => [`${n}h`, `${n}m`, `0${n}h`, `${n}d`, `${n}w`]).flat(),
    '1.5h',
    '12 h',
    '+1h',
    '1e1h',
    '１h',
  ];

  it.each([
    ['listed values', candidates],
    ['random strings', fc.sample(fc.string({ unit: 'binary', maxLength: 8 }), 2000)],
  ])('accepts exactly what parseCadence accepts: %s', (_label, values) => {
    const disagree = values.filter((c) => cadencePattern.test(c) !== (parseCadence(c) !== null));
    expect(disagree).toEqual([]);
  });
});

describe('member key pattern', () => {
  const listed = [
    'alice@acme.com',
    'alice.smith+ai@mail.acme.co.uk',
    "o'brien@acme.com",
    'x_1@a-b.io',
    'alice@acme',
    'alice@-acme.com',
    'alice@acme-.com',
    'alice@acme..com',
    'alice@acme.com.',
    'alice.acme.com',
    'a@b@c.com',
    'al ice@acme.com',
    '@acme.com',
    '<<',
    `${'a'.repeat(245)}@acme.com`,
    `${'a'.repeat(246)}@acme.com`,
    `a@${'b'.repeat(63)}.com`,
    `a@${'b'.repeat(64)}.com`,
    'ünï@acme.com',
    'a@acme.cöm',
  ];

  it('accepts exactly what emailsAreValid accepts: listed values', () => {
    expect(listed.filter((e) => emailPattern.test(e) !== ruleAcceptsEmail(e))).toEqual([]);
  });

  it('accepts exactly what emailsAreValid accepts: generated addresses', () => {
    const part = fc.string({ unit: fc.constantFrom(..."aZ09.-_+@!'é ".split('')), maxLength: 12 });
    const emails = fc.sample(
      fc.tuple(part, part, part).map(([a, b, c]) => `${a}@${b}.${c}`),
      3000,
    );
    expect(emails.filter((e) => emailPattern.test(e) !== ruleAcceptsEmail(e))).toEqual([]);
  });
});

describe('slug patterns', () => {
  it('group keys and the account id are the same slug', () => {
    expect(schema.properties.groups.propertyNames.pattern).toBe(schema.$defs.account.properties.id.pattern);
  });
});
