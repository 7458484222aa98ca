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

describe('descriptions and defaults', () => {
  type Node = Record<string, unknown>;
  const defs = (schema as unknown as { $defs: Record<string, Node> }).$defs;
  const resolve = (node: Node): Node =>
    typeof node.$ref === 'string' ? { ...resolve(defs[node.$ref.replace('#/$defs/', '')]!), ...node } : node;

  /** Every key an editor can hover: properties, pattern properties and map values, with where they are. */
  function keys(
    node: Node,
    where: string,
    out: [string, Node][] = [],
    seen = new Set<Node>(),
  ): [string, Node][] {
    const n = resolve(node);
    if (seen.has(n)) return out;
    seen.add(n);
    const children: [string, Node][] = [
      ...Object.entries((n.properties ?? {}) as Record<string, Node>),
      ...Object.entries((n.patternProperties ?? {}) as Record<string, Node>).map(([p, s]): [string, Node] => [
        `<${p}>`,
        s,
      ]),
      ...(typeof n.additionalProperties === 'object'
        ? [['<key>', n.additionalProperties as Node] as [string, Node]]
        : []),
    ];
    for (const [key, child] of children) {
      out.push([`${where}.${key}`, resolve(child)]);
      keys(child, `${where}.${key}`, out, seen);
    }
    for (const branch of (n.anyOf ?? []) as Node[]) keys(branch, where, out, seen);
    return out;
  }

  it('every key, member entries included, has a description', () => {
    const all = keys(schema as unknown as Node, '');
    expect(all.length).toBeGreaterThan(25);
    expect(all.filter(([, s]) => typeof s.description !== 'string').map(([w]) => w)).toEqual([]);
    expect(all.map(([w]) => w)).toContain('.groups.<^(?!default$)[a-z0-9][a-z0-9_-]{0,62}$>.members.<key>');
  });

  it('optional keys with a fixed default declare it', () => {
    const all = new Map(keys(schema as unknown as Node, ''));
    const group = '.groups.<^(?!default$)[a-z0-9][a-z0-9_-]{0,62}$>';
    expect({
      cadence: all.get('.account.cycle.cadence')?.default,
      timezone: all.get('.account.cycle.timezone')?.default,
      creditFactor: all.get('.account.creditFactor')?.default,
      signupCredits: all.get('.account.signupCredits')?.default,
      extra: all.get(`${group}.extra`)?.default,
      autoApprove: all.get(`${group}.autoApprove`)?.default,
      protect: all.get(`${group}.protect`)?.default,
      defaultAllocation: all.get('.groups.default.allocation')?.default,
    }).toEqual({
      cadence: 'calendar-month',
      timezone: 'UTC',
      creditFactor: 0,
      signupCredits: 0,
      extra: 0,
      autoApprove: 0,
      protect: false,
      defaultAllocation: 0,
    });
  });
});
