// The live state of one account as the diff needs it: the declared state read back into the file's shape, plus
// what the last apply wrote (for drift), this cycle's usage and member counts (for effects). Produced by
// state/inspect.ts, read by the pure diff (plan/diff.ts): types only, so both rooms import it from below.
import type { DeclaredAccount, DeclaredGroup, DeclaredState } from './declared-state.js';

export interface LiveState {
  /** null when the account does not exist yet. */
  state: DeclaredState | null;
  stateSerial: number;
  /** accounts.declared_version when read (bumped by every write to declared state); absent: no account. */
  declaredVersion?: number;
  /** Values as the last apply wrote them, for drift: keyed like the addresses. */
  applied: {
    account: DeclaredAccount | null;
    groups: Map<string, Omit<DeclaredGroup, 'key'>>;
    /** rollover: absent when none was applied, as in DeclaredMember. */
    members: Map<string, { group: string; allocation: string | null; extra: string; rollover?: string }>;
  };
  /**
   * Live members that credits.yaml never named: users who signed up and were given other terms than the
   * Default group's outside the file. Their `applied` values are the Default group's terms.
   */
  runtimeMembers?: ReadonlySet<string>;
  /** Usage in the current cycle, for effects. */
  usage: { account: string; groups: Map<string, string> };
  /** All members (declared or not) per group, for effects of deleting a group. */
  memberCounts: Map<string, number>;
}
