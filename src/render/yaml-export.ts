// DeclaredState → credits.yaml text (for `credits export`): the layout of the examples, amounts exact.
import { DEFAULT_GROUP, type DeclaredMember, type DeclaredState } from '../declared-state.js';

// A string is written plain only when every YAML reader reads it back as that very string: YAML 1.1 and 1.2,
// js-yaml (the loader) and the `yaml` package (its error positions). So: no indicator first (`%`, `@`, `-`,
// `.`, quotes, …), no `: ` or ` #` inside, no leading or trailing space, and nothing a schema resolves to
// another type — 1.1 booleans (`yes`, `n`, `off`), null, and anything that could be a number or a date
// (`2024`, `007`, `1e3`, `e0`, `0x10`, `1_000`, `2024-01-01`). Everything else is double-quoted.
const PLAIN = /^[A-Za-z0-9_](?:[A-Za-z0-9_./()&%+@ -]*[A-Za-z0-9_./()&%+@-])?$/;
const TYPED_WORD = /^(?:y|n|yes|no|on|off|true|false|null)$/i;
// The `yaml` package's YAML 1.1 float takes its digits as optional: `e0`, `E5`, `_1e2` read as numbers there.
const NUMBER_LIKE = /^(?:0[xob]|[0-9][-+0-9_.:eEtTzZ ]*$|[0-9_]*\.?[0-9_]*[eE][-+]?[0-9]+$)/i;

/**
 * A double-quoted scalar: JSON's escapes are YAML's, and the characters JSON leaves raw but YAML may not
 * (DEL and C1 controls, 1.1's line breaks NEL/LS/PS, BOM, U+FFFE/U+FFFF) are escaped too.
 */
const quoted = (s: string): string =>
  JSON.stringify(s).replace(
    /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

export const yamlString = (s: string): string =>
  PLAIN.test(s) && !TYPED_WORD.test(s) && !NUMBER_LIKE.test(s) ? s : quoted(s);

/** YAML 1.2 readers refuse implicit keys longer than 1024 characters; longer ones are written `? key`. */
const MAX_IMPLICIT_KEY = 1000;

/** One `key: value` line (two for a long key) at `indent`; `value` is YAML text, empty for a nested map. */
function entry(indent: string, key: string, value: string): string {
  const k = yamlString(key);
  const v = value === '' ? '' : ` ${value}`;
  return k.length > MAX_IMPLICIT_KEY ? `${indent}? ${k}\n${indent}:${v}` : `${indent}${k}:${v}`;
}

function memberValue(m: DeclaredMember): string {
  const hasExtra = m.extra !== '0';
  if (m.allocation !== null && !hasExtra && m.rollover === undefined) return m.allocation;
  const parts: string[] = [];
  if (m.allocation !== null) parts.push(`allocation: ${m.allocation}`);
  if (hasExtra) parts.push(`extra: ${m.extra}`);
  if (m.rollover !== undefined) parts.push(`rollover: { max: ${m.rollover} }`);
  return parts.length ? `{ ${parts.join(', ')} }` : '{}';
}

export function renderYaml(state: DeclaredState, header = ''): string {
  const a = state.account;
  const out: string[] = [];
  if (header) out.push(...header.split('\n').map((l) => `# ${l}`));
  out.push(
    'version: 1',
    'account:',
    `  id: ${yamlString(a.id)}`,
    `  name: ${yamlString(a.name)}`,
    `  creditLimit: ${a.creditLimit}`,
  );
  out.push('  cycle:', `    cadence: ${yamlString(a.cadence)}`, `    timezone: ${yamlString(a.timezone)}`);
  out.push(`  creditFactor: ${a.creditFactor}`, `  signupCredits: ${a.signupCredits}`);
  if (a.managedBy) out.push(`  managedBy: ${yamlString(a.managedBy)}`);
  const byGroup = new Map<string, DeclaredMember[]>();
  for (const m of state.members) {
    const list = byGroup.get(m.group);
    if (list) list.push(m);
    else byGroup.set(m.group, [m]);
  }
  out.push('groups:');
  for (const g of state.groups) {
    out.push(entry('  ', g.key, ''));
    if (g.key !== DEFAULT_GROUP) out.push(`    name: ${yamlString(g.name)}`);
    out.push(`    allocation: ${g.allocation}`);
    if (g.extra !== '0') out.push(`    extra: ${g.extra}`);
    if (g.autoApprove !== '0') out.push(`    autoApprove: ${g.autoApprove}`);
    if (g.protect) out.push('    protect: true');
    if (g.rollover !== undefined) out.push(`    rollover: { max: ${g.rollover} }`);
    const members = byGroup.get(g.key) ?? [];
    if (members.length) {
      out.push('    members:');
      for (const m of members) out.push(entry('      ', m.email, memberValue(m)));
    }
  }
  if (state.alerts && (state.alerts.thresholds.length || state.alerts.webhooks.length)) {
    out.push('alerts:', `  thresholds: [${state.alerts.thresholds.join(', ')}]`);
    if (state.alerts.webhooks.length) {
      out.push('  webhooks:');
      for (const w of state.alerts.webhooks) {
        out.push(`    - url: ${yamlString(w.url)}`, `      secretEnv: ${yamlString(w.secretEnv)}`);
        // All three scopes is the default, written out only when fewer are chosen.
        if (w.scopes.length < 3) out.push(`      scopes: [${w.scopes.join(', ')}]`);
      }
    }
  }
  return out.join('\n') + '\n';
}
