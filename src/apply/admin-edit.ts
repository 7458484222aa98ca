// Admin edits of declared fields through the API (dashboard): the input is checked and canonicalised here;
// src/state/declared/admin-edits.ts writes it (lock, budget rules, serial, audit), recorded as drift. Accounts
// with `managedBy: git` refuse them.
import { CreditsError } from '../errors.js';
import { DEFAULT_GROUP } from '../declared-state.js';
import { canonicalTimeZone, isValidTimeZone, parseCadence } from '../config/cadence.js';
import { DEFAULT_GROUP_NAME } from '../config/normalise.js';
import {
  editAccountFields,
  editGroupFields,
  editMemberFields,
  type GroupPatch,
  type MemberPatch,
  type SettingsPatch,
} from '../state/declared/admin-edits.js';
import type { Store } from '../state/store.js';

export async function editGroup(
  store: Store,
  accountId: string,
  key: string,
  patch: GroupPatch,
  actor: string,
) {
  // credits.yaml has no `name` for the Default group (it is always "Default"): a name given here could never be
  // exported, and every plan would set it back.
  if (key === DEFAULT_GROUP && patch.name !== undefined && patch.name !== DEFAULT_GROUP_NAME) {
    throw new CreditsError('DEFAULT_GROUP_NAME');
  }
  return editGroupFields(store, accountId, key, patch, actor);
}

export async function editMember(
  store: Store,
  accountId: string,
  email: string,
  patch: MemberPatch,
  actor: string,
) {
  return editMemberFields(store, accountId, email, patch, actor);
}

export async function editSettings(
  store: Store,
  accountId: string,
  patch: SettingsPatch,
  actor: string,
  now: Date = new Date(),
) {
  if (patch.cadence !== undefined && !parseCadence(patch.cadence)) {
    throw new CreditsError('UNKNOWN_CADENCE', { value: patch.cadence });
  }
  if (patch.timezone !== undefined) {
    if (!isValidTimeZone(patch.timezone))
      throw new CreditsError('UNKNOWN_TIMEZONE', { value: patch.timezone });
    patch = { ...patch, timezone: canonicalTimeZone(patch.timezone) };
  }
  return editAccountFields(store, accountId, patch, actor, now);
}
