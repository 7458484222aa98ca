// diffMembers pairs members by a merge when both lists ascend in code-unit order, by a map otherwise (the
// database's collation may order e-mails differently): both must give the same changes.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { diff } from '../../src/plan/diff.js';
import type { DeclaredMember, DeclaredState } from '../../src/declared-state.js';
import type { Change } from '../../src/plan/plan.js';
import type { LiveState } from '../../src/live-state.js';

const account = {
  id: 'acme',
  name: 'Acme',
  creditLimit: '1000',
  cadence: 'calendar-month',
  timezone: 'UTC',
  creditFactor: '0',
  signupCredits: '0',
  managedBy: null,
};
const groups = ['default', 'eng', 'ops'].map((key) => ({
  key,
  name: key,
  allocation: '100',
  extra: '0',
  autoApprove: '0',
  protect: false,
}));
// Mixed case and punctuation, so that code-unit order and a collation's order disagree.
const email = fc.constantFrom(
  ...'abcdefgh'.split('').flatMap((c) => [`${c}@x.io`, `${c.toUpperCase()}_@x.io`]),
);
const member = fc.record({
  email,
  group: fc.constantFrom('default', 'eng', 'ops'),
  allocation: fc.constantFrom(null, '5', '5.0', '7'),
  extra: fc.constantFrom('0', '1', '0.00'),
});
const members = fc
  .uniqueArray(member, { selector: (m) => m.email, maxLength: 16 })
  .map((ms) => [...ms].sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0)));

function liveOf(ms: DeclaredMember[], appliedFrom: DeclaredMember[]): LiveState {
  return {
    state: { account, groups, members: ms },
    stateSerial: 3,
    applied: {
      account,
      groups: new Map(),
      members: new Map(appliedFrom.map((m) => [m.email, m])),
    },
    usage: { account: '0', groups: new Map() },
    memberCounts: new Map(),
  };
}

const ctx = { configDigest: 'sha256:x', now: new Date('2026-01-01T00:00:00Z') };
const order = (changes: Change[]) => [
  ...changes.filter((c) => c.action !== 'delete'),
  ...changes.filter((c) => c.action === 'delete').sort((a, b) => (a.address < b.address ? -1 : 1)),
];

describe('member pairing in the diff', () => {
  it('a merge of sorted lists gives the changes of a map of unsorted ones', () => {
    fc.assert(
      fc.property(members, members, members, fc.nat(), (want, have, applied, seed) => {
        const desired: DeclaredState = { account, groups, members: want };
        const merged = diff(desired, liveOf(have, applied), ctx);
        // The same live members in another order (a rotation, then lower-case first): the map path.
        const k = have.length ? seed % have.length : 0;
        const shuffled = [...have.slice(k), ...have.slice(0, k)].sort(
          (a, b) => Number(a.email.toLowerCase() !== a.email) - Number(b.email.toLowerCase() !== b.email),
        );
        const mapped = diff(desired, liveOf(shuffled, applied), ctx);
        expect(order(mapped.changes)).toEqual(order(merged.changes));
        expect(mapped.summary).toEqual(merged.summary);
        expect(mapped.warnings).toEqual(merged.warnings);
      }),
      { numRuns: 500 },
    );
  });
});
