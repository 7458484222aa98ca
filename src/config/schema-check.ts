// Stage 2: the JSON Schema (compiled ahead of time by scripts/generate.mjs) plus exact-number checks,
// each failure turned into a coded issue at a path.
import { validate as validateSchema } from './generated/schema-validator.js';
import { ExactNumber } from './exact-yaml.js';
import { pathText, type ConfigIssue, type ConfigPath } from './config-issue.js';
import { dec, decimalPlaces, MAX_DECIMAL_PLACES } from '../decimal.js';

/** The schema's maximum for amounts (`$defs.amount.maximum`). */
const AMOUNT_MAX = 1e15;

interface AjvError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  /** Set on the errors of a `propertyNames` subschema: the key that failed. */
  propertyName?: string;
}

type SchemaValidator = ((data: unknown) => boolean) & { errors?: AjvError[] | null };

/** Known keys per object kind, for "did you mean" suggestions. */
const KNOWN_KEYS: Record<string, string[]> = {
  root: ['version', 'account', 'groups', 'alerts'],
  account: ['id', 'name', 'creditLimit', 'cycle', 'creditFactor', 'signupCredits', 'managedBy'],
  cycle: ['cadence', 'timezone'],
  group: ['name', 'allocation', 'extra', 'autoApprove', 'protect', 'rollover', 'members'],
  defaultGroup: ['allocation', 'extra', 'autoApprove', 'rollover', 'members'],
  member: ['allocation', 'extra', 'rollover'],
  rollover: ['max'],
  alerts: ['thresholds', 'webhooks'],
  webhook: ['url', 'secretEnv', 'scopes'],
};

export function checkSchema(tree: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const plain = toPlain(tree, [], issues);
  const validate = validateSchema as SchemaValidator;
  if (!validate(plain)) issues.push(...mapErrors(validate.errors ?? [], plain, tree));
  return dedupe(issues);
}

/** Replaces ExactNumbers by floats for the schema only, checking finiteness and decimal places on the text. */
// `path` is one mutable stack (push/pop) copied only when an issue is recorded: 100k-member files would
// otherwise allocate a path array per node.
function toPlain(node: unknown, path: (string | number)[], issues: ConfigIssue[]): unknown {
  if (node instanceof ExactNumber) {
    if (!node.isFinite) {
      issues.push({
        code: 'NUMBER_NON_FINITE',
        params: { where: pathText(path), value: node.source },
        path: [...path],
      });
      return 0;
    }
    if (decimalPlaces(node.text) > MAX_DECIMAL_PLACES) {
      issues.push({
        code: 'NUMBER_PRECISION',
        params: { where: pathText(path), value: node.source },
        path: [...path],
      });
    }
    const n = node.toNumber();
    // A float rounds 10^15 + 0.000001 to 10^15, which the schema's maximum would let through: at the edge,
    // decide exactly (and hand the schema a float that is over it).
    if (n === AMOUNT_MAX && dec(node.text).greaterThan(AMOUNT_MAX)) return n + 1;
    return n;
  }
  if (Array.isArray(node)) {
    return node.map((item, i) => {
      path.push(i);
      const out = toPlain(item, path, issues);
      path.pop();
      return out;
    });
  }
  if (typeof node === 'object' && node !== null) {
    // Plain assignment, except `__proto__`, which must stay an own key (and be reported), not a prototype.
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(node)) {
      path.push(k);
      const value = toPlain((node as Record<string, unknown>)[k], path, issues);
      if (k === '__proto__') {
        Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
      } else {
        out[k] = value;
      }
      path.pop();
    }
    return out;
  }
  return node;
}

function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function valueAt(root: unknown, path: ConfigPath): unknown {
  let node = root;
  for (const step of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[String(step)];
  }
  return node;
}

const describe = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'a list'
      : typeof v === 'object'
        ? 'a mapping'
        : `${typeof v} ${JSON.stringify(v)}`;

const EXPECTED: Record<string, string> = {
  number: 'a number',
  string: 'a string',
  object: 'a mapping',
  boolean: 'true or false',
  null: 'empty',
  array: 'a list',
};

/**
 * Which kind of object is at path. Decided by the path, not the error's schemaPath: the standalone validator
 * reports schemaPaths relative to each `$ref`'d definition (`#/additionalProperties`, `#/anyOf/2/…`).
 */
function objectKind(path: ConfigPath): string {
  const [top, key, sub, member] = path;
  if (path.length === 0) return 'root';
  if (top === 'alerts') return path.length === 1 ? 'alerts' : 'webhook';
  if (top === 'account') return path.length === 1 ? 'account' : 'cycle';
  if (top !== 'groups' || key === undefined) return 'root';
  if (path.length === 2) return key === 'default' ? 'defaultGroup' : 'group';
  if (path.length === 3 && sub === 'rollover') return 'rollover';
  if (sub === 'members' && member !== undefined && path.length === 5 && path[4] === 'rollover')
    return 'rollover';
  return sub === 'members' && member !== undefined ? 'member' : 'root';
}

/** Whether path is a member's value, `groups.<key>.members.<email>`. */
const isMemberPath = (path: ConfigPath): boolean =>
  path.length === 4 && path[0] === 'groups' && path[2] === 'members';

/** Which branch of the member `anyOf` (0 amount, 1 empty, 2 mapping) an error of a member's value comes from. */
function memberBranch(schemaPath: string): string | undefined {
  if (schemaPath.startsWith('#/$defs/amount/')) return '0';
  return /^#\/anyOf\/(\d)\//.exec(schemaPath)?.[1];
}

/** `source` is the tree as parsed, for numbers as written (the schema saw floats). */
function mapErrors(errors: AjvError[], data: unknown, source: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const e of errors) {
    // The inner error of a `propertyNames` check; its `propertyNames` error (handled below) names the key.
    if (e.propertyName !== undefined) continue;
    const pointer = pointerToPath(e.instancePath);
    // Under `alerts` the digits are list indices (group keys elsewhere may be digits): the locator needs numbers.
    const path =
      pointer[0] === 'alerts' ? pointer.map((s) => (/^\d+$/.test(String(s)) ? Number(s) : s)) : pointer;
    const where = pathText(path);
    const value = valueAt(data, path);
    // A member is a number, empty, or a mapping: keep only the errors of the branch its data is in.
    const branch = isMemberPath(path) ? memberBranch(e.schemaPath) : undefined;
    if (branch !== undefined) {
      const kind =
        typeof value === 'number' ? '0' : value === null ? '1' : typeof value === 'object' ? '2' : 'x';
      if (kind !== branch || e.keyword === 'type') continue;
    }
    const alert = alertIssue(path, e, value, source);
    if (alert !== undefined) {
      if (alert) issues.push(alert);
      continue;
    }
    switch (e.keyword) {
      case 'anyOf': {
        const kind = typeof value;
        if (kind === 'number' || value === null || (kind === 'object' && !Array.isArray(value))) continue;
        issues.push({
          code: 'SCHEMA_TYPE',
          params: { where, expected: 'a number, empty, or {allocation, extra}', actual: describe(value) },
          path,
        });
        break;
      }
      case 'additionalProperties': {
        const key = String(e.params.additionalProperty);
        const keyPath = [...path, key];
        if (path.length === 1 && path[0] === 'groups') {
          issues.push({
            code: 'BAD_SLUG',
            params: { what: 'group key', value: key },
            path: keyPath,
            at: 'key',
          });
          break;
        }
        const known = KNOWN_KEYS[objectKind(path)] ?? [];
        const suggestion = closest(key, known);
        issues.push({
          code: 'SCHEMA_UNKNOWN_KEY',
          params: {
            key: suggestion ? `${key} (did you mean ${suggestion}?)` : key,
            where: path.length ? where : '',
          },
          path: keyPath,
          at: 'key',
        });
        break;
      }
      case 'required':
        issues.push({
          code: 'SCHEMA_REQUIRED',
          params: { key: String(e.params.missingProperty), where: path.length ? where : '' },
          path,
          at: 'key',
        });
        break;
      case 'type':
        issues.push({
          code: 'SCHEMA_TYPE',
          params: {
            where,
            expected: EXPECTED[String(e.params.type)] ?? String(e.params.type),
            actual: describe(value),
          },
          path,
        });
        break;
      case 'minimum':
        issues.push({
          code: 'NUMBER_NEGATIVE',
          params: { where, value: String(valueAt(source, path)) },
          path,
        });
        break;
      case 'maximum':
        issues.push({
          code: 'NUMBER_TOO_LARGE',
          params: { where, value: String(valueAt(source, path)), limit: '10^15' },
          path,
        });
        break;
      case 'propertyNames': {
        const key = String(e.params.propertyName ?? '');
        const keyPath = [...path, key];
        if (path.length === 3 && path[0] === 'groups' && path[2] === 'members') {
          issues.push({ code: 'BAD_EMAIL', params: { value: key }, path: keyPath, at: 'key' });
        } else if (path.length === 1 && path[0] === 'groups') {
          issues.push({
            code: 'BAD_SLUG',
            params: { what: 'group key', value: key },
            path: keyPath,
            at: 'key',
          });
        }
        // Elsewhere only merge keys (`<<`) fail it, for editors that would merge them: `additionalProperties`
        // reports the same key as SCHEMA_UNKNOWN_KEY.
        break;
      }
      case 'pattern':
        if (path.join('.') === 'account.id') {
          issues.push({ code: 'BAD_SLUG', params: { what: 'account id', value: String(value) }, path });
        } else if (path.join('.') === 'account.cycle.cadence') {
          // The code of the semantic rule cadenceIsKnown, which says the same (and cannot run after this).
          issues.push({ code: 'UNKNOWN_CADENCE', params: { value: String(value) }, path });
        } else {
          issues.push({
            code: 'SCHEMA_VALUE',
            params: { where, reason: e.message ?? 'invalid value' },
            path,
          });
        }
        break;
      case 'const':
        issues.push({
          code: 'SCHEMA_VALUE',
          params: {
            where,
            reason: `must be ${JSON.stringify(e.params.allowedValue)}, got ${describe(value)}`,
          },
          path,
        });
        break;
      case 'enum':
        issues.push({
          code: 'SCHEMA_VALUE',
          params: {
            where,
            reason: `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
          },
          path,
        });
        break;
      default:
        issues.push({ code: 'SCHEMA_VALUE', params: { where, reason: e.message ?? e.keyword }, path });
    }
  }
  return issues;
}

/**
 * The coded issue of a schema error under `alerts`, where the generic codes would mislead (a threshold's
 * maximum is not an amount's 10^15); null to drop the error, undefined to map it as anywhere else.
 */
function alertIssue(
  path: ConfigPath,
  e: AjvError,
  value: unknown,
  source: unknown,
): ConfigIssue | null | undefined {
  if (path[0] !== 'alerts') return undefined;
  const written = (p: ConfigPath): string => {
    const v = valueAt(source, p);
    return v instanceof ExactNumber ? v.source : String(v);
  };
  if (path[1] === 'thresholds' && path.length === 3) {
    if (e.keyword === 'maximum' || e.keyword === 'exclusiveMinimum') {
      return { code: 'ALERT_THRESHOLD_RANGE', params: { value: written(path) }, path };
    }
    return undefined;
  }
  if (path[1] === 'thresholds' && path.length === 2 && e.keyword === 'uniqueItems') {
    const at = [...path, Number(e.params.j)];
    // `.nan` and `.inf` reach the validator as the same non-number: they are reported as not finite, not as twins.
    const twin = valueAt(source, at);
    if (twin instanceof ExactNumber && !twin.isFinite) return null;
    return { code: 'ALERT_THRESHOLD_DUPLICATE', params: { value: written(at) }, path: at };
  }
  if (path[1] === 'webhooks' && path.length === 4 && e.keyword === 'pattern') {
    if (path[3] === 'url') {
      return {
        code: 'ALERT_BAD_URL',
        params: { value: String(value), reason: 'it does not start with https:// or http://' },
        path,
      };
    }
  }
  // Whatever is wrong with a secretEnv (a pattern, a number), its value is not repeated: it may be the secret.
  if (path[1] === 'webhooks' && path[3] === 'secretEnv' && path.length === 4) {
    return { code: 'ALERT_BAD_SECRET_ENV', params: {}, path };
  }
  if (path[1] === 'webhooks' && path[3] === 'scopes' && path.length === 5 && e.keyword === 'enum') {
    return { code: 'ALERT_UNKNOWN_SCOPE', params: { value: String(value) }, path };
  }
  return undefined;
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.code}|${(i.path ?? []).join('\u0000')}|${i.at ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The known key closest to a misspelt one (edit distance ≤ 2 or a case difference), if any. */
function closest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    if (k === key) continue; // known here, so allowed by another schema branch; suggesting itself helps no one
    const d = k.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
