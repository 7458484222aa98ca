// The plan address grammar: every address the diff builds parses back to what it names, e-mails with dots
// (and ones ending in a field's name) included; anything else is not an address.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ACCOUNT_FIELDS,
  formatAddress,
  GROUP_FIELDS,
  MEMBER_FIELDS,
  parseAddress,
  type Address,
} from '../../src/plan/address.js';
import type { ChangeAction } from '../../src/plan/plan.js';

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?$/);
const email = fc
  .tuple(
    fc.stringMatching(/^[a-z0-9._+-]{1,12}$/),
    fc.array(fc.oneof(label, fc.constantFrom('group', 'allocation', 'extra')), {
      minLength: 2,
      maxLength: 4,
    }),
  )
  .map(([local, labels]) => `${local}@${labels.join('.')}`);
const key = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/);

/** Each address with an action it goes with. */
const addressed: fc.Arbitrary<[Address, ChangeAction]> = fc.oneof(
  fc.constant<[Address, ChangeAction]>([{ kind: 'account' }, 'create']),
  fc
    .constantFrom(...ACCOUNT_FIELDS)
    .map((field): [Address, ChangeAction] => [{ kind: 'account', field }, 'update']),
  fc
    .tuple(key, fc.constantFrom<ChangeAction>('create', 'delete'))
    .map(([k, a]): [Address, ChangeAction] => [{ kind: 'group', key: k }, a]),
  fc
    .tuple(key, fc.constantFrom(...GROUP_FIELDS))
    .map(([k, field]): [Address, ChangeAction] => [{ kind: 'group', key: k, field }, 'update']),
  fc
    .tuple(email, fc.constantFrom<ChangeAction>('create', 'delete'))
    .map(([e, a]): [Address, ChangeAction] => [{ kind: 'member', email: e }, a]),
  fc
    .tuple(email, fc.constantFrom(...MEMBER_FIELDS))
    .map(([e, field]): [Address, ChangeAction] => [
      { kind: 'member', email: e, field },
      field === 'group' ? 'move' : 'update',
    ]),
);

describe('plan addresses', () => {
  it('parse back to what they were built from', () => {
    fc.assert(
      fc.property(addressed, ([address, action]) => {
        expect(parseAddress(formatAddress(address), action)).toEqual(address);
      }),
    );
  });

  it('read an e-mail with dots by the grammar, the action telling a member from its field', () => {
    expect(parseAddress('member.bob@corp.group', 'delete')).toEqual({
      kind: 'member',
      email: 'bob@corp.group',
    });
    expect(parseAddress('member.bob@a.corp.group', 'move')).toEqual({
      kind: 'member',
      email: 'bob@a.corp',
      field: 'group',
    });
    expect(parseAddress('member.a.b@c.d.allocation', 'update')).toEqual({
      kind: 'member',
      email: 'a.b@c.d',
      field: 'allocation',
    });
    expect(parseAddress('account.cycle.timezone', 'update')).toEqual({
      kind: 'account',
      field: 'cycle.timezone',
    });
  });

  it.each([
    ['typo.allocation', 'update'],
    ['member.location', 'create'],
    ['member.bob@corp.group', 'update'], // a move changes the group
    ['member.bob@corp.com.allocation', 'move'],
    ['member.bob@corp.com.name', 'update'],
    ['group.eng.allocation', 'create'],
    ['group.Eng', 'create'],
    ['group.eng.members', 'update'],
    ['group.', 'delete'],
    ['account', 'update'],
    ['account.id', 'update'],
    ['account.cycle', 'update'],
    ['', 'create'],
  ] as const)('%s (%s) is not an address', (address, action) => {
    expect(parseAddress(address, action)).toBeUndefined();
  });
});
