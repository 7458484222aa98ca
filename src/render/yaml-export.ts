// DeclaredState → credits.yaml text (for `credits export`): the layout of the examples, amounts exact.
import { DEFAULT_GROUP, type DeclaredMember, type DeclaredState } from '../declared-state.js';

const PLAIN_EMAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$/;
const PLAIN_TEXT = /^[A-Za-z0-9][A-Za-z0-9 ._()/&-]*$/;

const key = (email: string): string => (PLAIN_EMAIL.test(email) ? email : JSON.stringify(email));
const text = (s: string): string =>
  PLAIN_TEXT.test(s) && !/^(true|false|null|yes|no|on|off|~)$/i.test(s) ? s : JSON.stringify(s);

function memberValue(m: DeclaredMember): string {
  const hasExtra = m.extra !== '0';
  if (m.allocation !== null && !hasExtra) return m.allocation;
  const parts: string[] = [];
  if (m.allocation !== null) parts.push(`allocation: ${m.allocation}`);
  if (hasExtra) parts.push(`extra: ${m.extra}`);
  return parts.length ? `{ ${parts.join(', ')} }` : '{}';
}

export function renderYaml(state: DeclaredState, header = ''): string {
  const a = state.account;
  const out: string[] = [];
  if (header) out.push(...header.split('\n').map((l) => `# ${l}`));
  out.push(
    'version: 1',
    'account:',
    `  id: ${a.id}`,
    `  name: ${text(a.name)}`,
    `  creditLimit: ${a.creditLimit}`,
  );
  out.push('  cycle:', `    cadence: ${a.cadence}`, `    timezone: ${a.timezone}`);
  out.push(`  creditFactor: ${a.creditFactor}`, `  signupCredits: ${a.signupCredits}`);
  if (a.managedBy) out.push(`  managedBy: ${a.managedBy}`);
  const byGroup = new Map<string, DeclaredMember[]>();
  for (const m of state.members) byGroup.set(m.group, [...(byGroup.get(m.group) ?? []), m]);
  out.push('groups:');
  for (const g of state.groups) {
    out.push(`  ${g.key}:`);
    if (g.key !== DEFAULT_GROUP) out.push(`    name: ${text(g.name)}`);
    out.push(`    allocation: ${g.allocation}`);
    if (g.extra !== '0') out.push(`    extra: ${g.extra}`);
    if (g.autoApprove !== '0') out.push(`    autoApprove: ${g.autoApprove}`);
    if (g.protect) out.push('    protect: true');
    const members = byGroup.get(g.key) ?? [];
    if (members.length) {
      out.push('    members:');
      for (const m of members) out.push(`      ${key(m.email)}: ${memberValue(m)}`);
    }
  }
  return out.join('\n') + '\n';
}
