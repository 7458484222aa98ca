// The shape of a saved plan (what `credits plan --out` writes), checked before anything is applied: every
// field present and typed, every address of the grammar (address.ts). An unknown address is PLAN_INVALID
// naming it. Whether the plan is the one its configuration gives is apply's check (apply/replan-saved.ts).
import { CreditsError } from '../errors.js';
import { PLAN_FORMAT_VERSION, type ChangeAction, type Plan } from './plan.js';
import { parseAddress } from './address.js';

const ACTIONS = new Set(['create', 'update', 'delete', 'move']);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isWarning = (w: unknown): boolean =>
  typeof w === 'object' &&
  w !== null &&
  typeof (w as { code?: unknown }).code === 'string' &&
  typeof (w as { message?: unknown }).message === 'string';
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isCount = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const invalid = (reason: string) => new CreditsError('PLAN_INVALID', { reason });

/** Where a change is not of the plan's shape, or undefined; an address must be of the grammar (address.ts). */
function changeProblem(c: unknown, i: number): string | undefined {
  if (!isObject(c)) return `changes[${i}] is not an object`;
  if (typeof c.address !== 'string') return `changes[${i}].address is not text`;
  if (!ACTIONS.has(c.action as string))
    return `changes[${i}].action is not one of create, update, delete, move`;
  if (!parseAddress(c.address, c.action as ChangeAction)) {
    return `unknown address ${c.address} (for ${String(c.action)})`;
  }
  if (!('before' in c) || !('after' in c)) return `changes[${i}] (${c.address}) lacks before or after`;
  if (!isStrings(c.effects)) return `changes[${i}] (${c.address}) has no list of effects`;
  return undefined;
}

/** A plan as `credits plan --out` writes it (PLAN_FORMAT_VERSION), or PLAN_INVALID naming what is not. */
export function checkPlan(data: unknown): Plan {
  if (!isObject(data) || !('formatVersion' in data)) throw invalid('formatVersion is missing');
  if (data.formatVersion !== PLAN_FORMAT_VERSION) {
    throw new CreditsError('PLAN_FORMAT_UNSUPPORTED', {
      version: String(data.formatVersion),
      expected: PLAN_FORMAT_VERSION,
    });
  }
  const p = data;
  if (typeof p.account !== 'string') throw invalid('account is missing');
  if (typeof p.databaseId !== 'string' || !UUID.test(p.databaseId)) throw invalid('databaseId is not a UUID');
  if (!isCount(p.stateSerial)) throw invalid('stateSerial is not a count');
  if (p.declaredVersion !== null && !isCount(p.declaredVersion)) {
    throw invalid('declaredVersion is neither a count nor null');
  }
  if (typeof p.configDigest !== 'string') throw invalid('configDigest is missing');
  if (typeof p.createdAt !== 'string' || Number.isNaN(Date.parse(p.createdAt))) {
    throw invalid('createdAt is not a time');
  }
  const s = p.summary;
  if (!isObject(s) || !['create', 'update', 'delete', 'move'].every((k) => isCount(s[k]))) {
    throw invalid('summary is not four counts');
  }
  if (!Array.isArray(p.changes)) throw invalid('changes is not a list');
  for (let i = 0; i < p.changes.length; i++) {
    const problem = changeProblem(p.changes[i], i);
    if (problem) throw invalid(problem);
  }
  if (!Array.isArray(p.warnings) || !p.warnings.every(isWarning)) {
    throw invalid('warnings is not a list of {code, message}');
  }
  if (typeof p.config !== 'string') throw invalid('config (the text the plan was made from) is missing');
  return p as unknown as Plan;
}
