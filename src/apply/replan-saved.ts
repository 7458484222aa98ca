// A saved plan is applied only if it is exactly the plan that planning its own configuration against the
// live state gives now. Runs inside the apply transaction, under the account's lock, so nothing can move
// between the check and the writes.
import { CreditsError } from '../errors.js';
import { readDatabaseId } from '../state/database-identity.js';
import type { Queryable } from '../state/store.js';
import type { Change, Plan } from '../plan/plan.js';
import { digestOf } from '../planner/config-bytes.js';
import { makePlan, type MadePlan } from '../planner/plan-against-store.js';

/** Where errors in a saved plan's configuration point (only an edited plan can hold an invalid one). */
const SAVED_CONFIG = 'config of the saved plan';

export interface ReplanOptions {
  allowDestroy?: boolean;
  maxBytes?: number;
}

/** What the live account looked like under the lock (null: no account). */
export interface LiveHead {
  stateSerial: number;
  declaredVersion: number | null;
}

/** JSON equality; a key whose value is undefined counts as absent (as in the file written by JSON.stringify). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameJson(x, b[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x).filter((k) => x[k] !== undefined);
  if (keys.length !== Object.keys(y).filter((k) => y[k] !== undefined).length) return false;
  return keys.every((k) => Object.hasOwn(y, k) && sameJson(x[k], y[k]));
}

/** A change without what is read live at plan time (spend, who changed a drifted value). */
function withoutAdvice(c: Change | undefined): unknown {
  if (!c) return c;
  const { spend: _spend, changedBy: _changedBy, ...meaning } = c;
  return meaning;
}

/**
 * Where two plans differ in meaning (a change's address, or a top-level key), or undefined when they are the
 * same plan. Not compared: createdAt (the re-plan runs at that very time, so previews are the same),
 * declaredVersion (bumped by signups, which change no declared value), and the advice read live at plan time
 * (spend notes, who changed a drifted value, warnings): usage moves all the time, and none of it is written.
 */
export function planDifference(saved: Plan, fresh: Plan): string | undefined {
  const changes = saved.changes;
  for (let i = 0; i < Math.max(changes.length, fresh.changes.length); i++) {
    if (!sameJson(withoutAdvice(changes[i]), withoutAdvice(fresh.changes[i]))) {
      return (changes[i] ?? fresh.changes[i])!.address;
    }
  }
  const keys = new Set([...Object.keys(saved), ...Object.keys(fresh)]);
  for (const k of keys) {
    if (k === 'createdAt' || k === 'declaredVersion' || k === 'changes' || k === 'warnings') continue;
    if (!sameJson(saved[k as keyof Plan], fresh[k as keyof Plan])) return k;
  }
  return undefined;
}

/**
 * Plans the configuration of a saved plan (one checkPlan accepted) again on `tx` and returns that plan with its
 * source (identical in meaning to the saved one, and made here, so apply keeps its text for the next plan), or
 * refuses: PLAN_WRONG_DATABASE, PLAN_STALE, PLAN_MISMATCH, or the configuration's own errors (ConfigInvalid).
 */
export async function replanSaved(
  tx: Queryable,
  saved: Plan,
  live: LiveHead,
  opts: ReplanOptions,
): Promise<MadePlan> {
  const databaseId = await readDatabaseId(tx);
  if (saved.databaseId !== databaseId) {
    throw new CreditsError('PLAN_WRONG_DATABASE', {
      planned: saved.databaseId ?? 'unknown',
      current: databaseId,
    });
  }
  if (live.stateSerial !== saved.stateSerial) {
    throw new CreditsError('PLAN_STALE', { planned: saved.stateSerial, current: live.stateSerial });
  }
  // A configuration that is not the one the digest names was edited: say so rather than report its errors.
  const config = saved.config!;
  if (digestOf(config) !== saved.configDigest) throw new CreditsError('PLAN_MISMATCH', { at: 'config' });
  const fresh = await makePlan(tx, {
    bytes: config,
    file: SAVED_CONFIG,
    maxBytes: opts.maxBytes,
    allowDestroy: opts.allowDestroy,
    now: new Date(saved.createdAt),
    advice: false, // not compared (planDifference): no need to read it under the lock
  });
  const at = planDifference(saved, fresh.plan);
  if (at === undefined) return fresh;
  if (live.declaredVersion !== (saved.declaredVersion ?? null)) {
    throw new CreditsError('PLAN_STALE', {
      account: saved.account,
      planned: saved.stateSerial,
      current: live.stateSerial,
      at,
    });
  }
  throw new CreditsError('PLAN_MISMATCH', { at });
}
