// replayUsage: the previous cycle's usage walked hour by hour against proposed budgets (pure, no database).
import { describe, expect, it } from 'vitest';
import { replayUsage, type ReplayUsage } from '../../src/plan/replay.js';
import type { DeclaredState } from '../../src/declared-state.js';

const state = (over: { limit?: string; factor?: string; alice?: string | null; eng?: string } = {}) =>
  ({
    account: {
      id: 'acme',
      name: 'Acme',
      creditLimit: over.limit ?? '1000',
      cadence: '1d',
      timezone: 'UTC',
      creditFactor: over.factor ?? '1',
      signupCredits: '0',
      managedBy: 'git',
    },
    groups: [
      { key: 'default', name: 'Default', allocation: '100', extra: '0', autoApprove: '0', protect: false },
      {
        key: 'eng',
        name: 'Eng',
        allocation: over.eng ?? '500',
        extra: '0',
        autoApprove: '0',
        protect: false,
      },
    ],
    members: [
      {
        email: 'alice@acme.test',
        group: 'eng',
        allocation: over.alice === undefined ? '300' : over.alice,
        extra: '0',
      },
      { email: 'bob@acme.test', group: 'eng', allocation: null, extra: '0' },
    ],
  }) as DeclaredState;

const H = 1_700_000_000 - (1_700_000_000 % 3600);
const usage = (hours: ReplayUsage['hours'], grants: Record<string, string> = {}): ReplayUsage => ({
  cycle: { cycleNo: 1, startsAt: new Date(H * 1000), endsAt: new Date((H + 86400) * 1000) },
  hours,
  grants: new Map(Object.entries(grants)),
  counters: new Map([['member:alice@acme.test', { capacity: '300', used: '250' }]]),
});

describe('replayUsage', () => {
  it('usage that fits the proposed budgets refuses nothing', () => {
    const r = replayUsage(state(), usage([['alice@acme.test', H, '250']]));
    expect(r).toMatchObject({ used: '250', refused: '0', members: [], groups: [] });
    expect(r.account.blockedFrom).toBeNull();
  });

  it('a cut allocation blocks the member from the hour her usage passes it, and counts what is refused', () => {
    const r = replayUsage(
      state({ alice: '200' }),
      usage([
        ['alice@acme.test', H, '150'],
        ['alice@acme.test', H + 3600, '60'],
        ['alice@acme.test', H + 7200, '40'],
      ]),
    );
    expect(r.refused).toBe('50');
    expect(r.members).toEqual([
      {
        scope: 'member:alice@acme.test',
        group: 'eng',
        used: '250',
        actualBudget: '300',
        proposedBudget: '200',
        blockedFrom: new Date((H + 3600) * 1000).toISOString(),
        blockedBy: 'member',
        refused: '50',
      },
    ]);
  });

  it('pool members share what the group keeps back; the group and the account bound everyone', () => {
    // eng 400: alice 300 of her own, bob draws from a pool of 100.
    const r = replayUsage(
      state({ eng: '400', limit: '420' }),
      usage([
        ['bob@acme.test', H, '120'],
        ['carol@acme.test', H + 3600, '30'],
      ]),
    );
    const bob = r.members.find((m) => m.scope === 'member:bob@acme.test');
    expect(bob).toMatchObject({ blockedBy: 'member', refused: '20', proposedBudget: '0' });
    // carol is not in the file: Default's terms (a pool of 100); the account has 420 - 100 = 320 left.
    expect(r.members.find((m) => m.scope === 'member:carol@acme.test')).toBeUndefined();
    const tight = replayUsage(
      state({ limit: '110' }),
      usage([
        ['alice@acme.test', H, '100'],
        ['carol@acme.test', H + 3600, '30'],
      ]),
    );
    expect(tight.account).toMatchObject({ blockedBy: 'account', refused: '20' });
    expect(tight.members).toMatchObject([
      { scope: 'member:carol@acme.test', blockedBy: 'account', refused: '20' },
    ]);
  });

  it('grants made in the cycle count, and tracking off refuses nothing', () => {
    const hours: ReplayUsage['hours'] = [['alice@acme.test', H, '350']];
    expect(replayUsage(state(), usage(hours, { 'alice@acme.test': '50' })).refused).toBe('0');
    expect(replayUsage(state(), usage(hours)).refused).toBe('50');
    expect(replayUsage(state({ factor: '0', alice: '1' }), usage(hours))).toMatchObject({
      trackingOff: true,
      refused: '0',
    });
  });

  it('sums exactly in millionths', () => {
    const hours: ReplayUsage['hours'] = Array.from({ length: 10 }, (_, i) => [
      'alice@acme.test',
      H + i * 3600,
      '0.1',
    ]);
    expect(replayUsage(state(), usage(hours)).used).toBe('1');
    const r = replayUsage(state({ alice: '0.35' }), usage(hours));
    expect(r.refused).toBe('0.65');
  });
});
