// `credits export` must write a file that loads and plans to no changes whatever the strings in it: group keys
// such as `2024` or `0x10`, names such as `yes` or `1e3 ` (trailing space), e-mails such as `%ops@x.com`.
// Every string is read back by js-yaml (the loader, and its default schema) and by the `yaml` package in YAML
// 1.2 and 1.1 (booleans `y`/`off`, sexagesimal and `0`-octal numbers, dates) as the very string exported.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import jsYaml from 'js-yaml';
import YAML from 'yaml';
import type { FastifyInstance } from 'fastify';
import { storeKinds } from '../support/databases.js';
import { buildServer } from '../../src/api/server.js';
import { makePlan } from '../../src/planner/plan-against-store.js';
import { applyPlan } from '../../src/apply/apply-plan.js';
import { exportYaml } from '../../src/cli/commands/export.js';
import { loadConfig } from '../../src/config/load-config.js';
import { EXACT_SCHEMA } from '../../src/config/exact-yaml.js';
import { isValidEmail } from '../../src/config/semantic-rules.js';
import { yamlString } from '../../src/render/yaml-export.js';
import { inspect } from '../../src/state/inspect.js';
import { createToken } from '../../src/state/tokens.js';
import type { DeclaredState } from '../../src/declared-state.js';
import type { Store } from '../../src/state/store.js';

/** Strings that YAML reads as something else, or cannot read plain, in at least one version or library. */
const NASTY = [
  '%ops@x.com',
  '2024',
  '1e3',
  'e0', // the yaml package's YAML 1.1 reads it as a float (its digits before the exponent are optional)
  '0x10',
  '007',
  'trailing ',
  ' leading',
  'yes',
  'No',
  'ON',
  'off',
  'y',
  'N',
  'true',
  'False',
  'null',
  'Null',
  '~',
  '1_000',
  '0b101',
  '0o17',
  '0777',
  '2024-01-01',
  '1:30',
  '190:20:30',
  '.5',
  '+1',
  '-1',
  '.inf',
  '-.Inf',
  '.NaN',
  '1.2.3',
  '12e-3',
  '<<',
  '=',
  '- item',
  '? key',
  ': x',
  'a: b',
  'a #b',
  '#hash',
  '@at',
  '`tick',
  '!tag',
  '&anchor',
  '*alias',
  '|',
  '>',
  '[x]',
  '{x}',
  'x, y',
  '"q"',
  "'q'",
  '\\',
  'line\nbreak',
  'tab\there',
  'cr\rhere',
  '\u0085nel',
  'ls\u2028ps\u2029',
  '\ufeffbom',
  'del\u007f',
  'c1\u0090',
  'x\ufffe',
  'x\uffff',
  '\u0001',
  'é',
  'Zürich',
  '😀',
  'a\u00a0b',
  '   ',
  '---',
  '...',
  '',
];
/** The brief's examples: the property must meet each of them often. */
const MUST_MEET = ['%ops@x.com', '2024', '1e3', '0x10', '007', 'trailing '];

const nastyPiece = fc.constantFrom(...NASTY);
/** Any string, biased hard towards the nasty ones and their combinations. */
const text = (maxLength: number) =>
  fc
    .oneof(
      { weight: 4, arbitrary: nastyPiece },
      { weight: 2, arbitrary: fc.tuple(nastyPiece, nastyPiece).map(([a, b]) => a + b) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(nastyPiece, fc.string({ unit: 'grapheme', maxLength: 6 }), nastyPiece)
          .map((p) => p.join('')),
      },
    )
    .filter((s) => [...s].length <= maxLength);

/** Group keys the schema accepts (slugs), mostly ones that read as numbers, booleans, null or dates. */
const NASTY_KEYS = ['2024', '1e3', '0x10', '007', 'yes', 'no', 'on', 'off', 'y', 'n', 'null', 'true'];
const groupKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_KEYS, '1_000', '0b1', '0o7', '2024-01-01', '12e-3') },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,8}$/).filter((k) => k !== 'default') },
);

const EMAIL = /^[^@\s]+@[^@\s]+$/; // the API's pattern; credits.yaml's rule is stricter (isValidEmail)
/** Local parts credits.yaml accepts that YAML indicators, numbers and booleans start or make up. */
const LOCAL = ['%ops', '2024', '1e3', '0x10', '007', 'yes', 'null', '~', '-a', '.a', '+a', "'q'", '#x', '*x'];
LOCAL.push('&x', '!x', '|x', '{x}', '?x', '`x', '=x', '^x', '/x', 'a..b', 'A.B', "o'neil", 'x#', 'x:y');
const DOMAINS = ['x.com', '1e3.com', '0x10.io', '2024.de', '007.x', 'yes.no', 'a-b.c0', 'Acme.TEST'];
const localPart = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...LOCAL) },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.constantFrom(...LOCAL), fc.constantFrom(...LOCAL)).map((p) => p.join('')),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,20}$/) },
);
const domain = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...DOMAINS) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9]{1,8}(\.[a-z0-9]{1,8}){1,2}$/) },
);
/** Anything the API accepts; most of these credits.yaml cannot name. */
const emailPart = text(40).filter((s) => s !== '' && !/[@\s]/.test(s));
const email = fc
  .oneof(
    { weight: 2, arbitrary: fc.constant('%ops@x.com') },
    { weight: 6, arbitrary: fc.tuple(localPart, domain).map(([l, d]) => `${l}@${d}`) },
    { weight: 1, arbitrary: fc.tuple(localPart, domain).map(([l, d]) => `${l.repeat(30)}@${d}`) },
    { weight: 2, arbitrary: fc.tuple(emailPart, emailPart).map(([l, d]) => `${l}@${d}`) },
  )
  .map((e) => e.slice(-254))
  .filter((e) => EMAIL.test(e));
const fileEmail = email.filter(isValidEmail);

const amount = fc.integer({ min: 0, max: 50 }).map(String);

type Action =
  | { kind: 'signup'; email: string }
  | { kind: 'member'; who: number; allocation?: string | null; extra?: string; group?: number }
  | { kind: 'group-name'; group: number; name: string }
  | { kind: 'account-name'; name: string }
  | { kind: 'cycle'; cadence: string; timezone: string };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: email.map((e) => ({ kind: 'signup' as const, email: e })) },
  {
    weight: 4,
    arbitrary: fc.record(
      {
        kind: fc.constant('member' as const),
        who: fc.nat(),
        allocation: fc.option(amount, { nil: null }),
        extra: amount,
        group: fc.nat(),
      },
      { requiredKeys: ['kind', 'who'] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('group-name' as const), group: fc.nat(), name: text(200) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('account-name' as const), name: text(200) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('cycle' as const),
      cadence: fc.constantFrom('calendar-month', '1d', '1w', '15d', '24h', '90m'),
      timezone: fc.constantFrom('UTC', 'europe/berlin', 'America/New_York'),
    }),
  },
);

/** A name credits.yaml accepts (and PostgreSQL can store: no NUL), for the file applied first. */
const fileName = text(200).filter((n) => n !== '' && !n.includes('\u0000'));

const scenario = fc.record({
  accountName: fileName,
  groups: fc.uniqueArray(fc.tuple(groupKey, fileName), { maxLength: 4, selector: ([k]) => k }),
  declared: fc.uniqueArray(fc.tuple(fileEmail, fc.nat(), fc.option(amount, { nil: null })), {
    maxLength: 4,
    selector: ([e]) => e.toLowerCase(),
  }),
  actions: fc.array(action, { maxLength: 10 }),
});

/** A double-quoted YAML string written without the code under test: everything outside ASCII escaped. */
function independentQuote(s: string): string {
  let out = '"';
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    if (c === '"' || c === '\\') out += '\\' + c;
    else if (cp >= 0x20 && cp < 0x7f) out += c;
    else if (cp > 0xffff) out += `\\U${cp.toString(16).padStart(8, '0')}`;
    else out += `\\u${cp.toString(16).padStart(4, '0')}`;
  }
  return out + '"';
}

/** The strings of a loaded credits.yaml, in a shape every reader gives alike. */
function stringsOf(doc: unknown) {
  const d = doc as {
    account: { id: unknown; name: unknown; cycle: { cadence: unknown; timezone: unknown } };
    groups: Record<string, { name?: unknown; members?: Record<string, unknown> }>;
  };
  return {
    id: d.account.id,
    name: d.account.name,
    cycle: [d.account.cycle.cadence, d.account.cycle.timezone],
    groups: Object.entries(d.groups).map(([key, g]) => [key, g.name ?? null, Object.keys(g.members ?? {})]),
  };
}

const READERS: [string, (text: string) => unknown][] = [
  ['js-yaml, the loader schema', (t) => jsYaml.load(t, { schema: EXACT_SCHEMA })],
  ['js-yaml, default schema', (t) => jsYaml.load(t)],
  ['yaml, YAML 1.2', (t) => YAML.parse(t)],
  ['yaml, YAML 1.1', (t) => YAML.parse(t, { version: '1.1' })],
];

describe('yamlString', () => {
  it('the generators meet the nasty strings often', () => {
    const names = fc.sample(text(200), { numRuns: 4000, seed: 1 });
    const emails = fc.sample(email, { numRuns: 2000, seed: 2 });
    const keys = fc.sample(groupKey, { numRuns: 1000, seed: 3 });
    for (const s of MUST_MEET) {
      expect(names.filter((n) => n === s).length, s).toBeGreaterThan(15);
      expect(names.filter((n) => n.includes(s)).length, s).toBeGreaterThan(40);
    }
    expect(emails.filter((e) => e === '%ops@x.com').length).toBeGreaterThan(100);
    const declarable = emails.filter(isValidEmail);
    expect(declarable.length).toBeGreaterThan(1000);
    expect(
      declarable.filter((e) => /^(2024|1e3|0x10|007|yes|null|[-.%'#*&!|{?`~])/.test(e)).length,
    ).toBeGreaterThan(300);
    for (const k of ['2024', '1e3', '0x10', '007'])
      expect(keys.filter((x) => x === k).length, k).toBeGreaterThan(20);
  });

  it('every reader reads a value or a key back as the string written', () => {
    fc.assert(
      fc.property(fc.oneof(text(200), email), (s) => {
        const q = yamlString(s);
        const asKey = q.length > 1000 ? `? ${q}\n  : 1` : `${q}: 1`;
        const doc = `v: ${q}\nm:\n  ${asKey}\n`;
        for (const [reader, read] of READERS) {
          const got = read(doc) as { v: unknown; m: Record<string, unknown> };
          expect(got.v, `${reader}: ${JSON.stringify(s)} written ${q}`).toBe(s);
          expect(Object.keys(got.m), `${reader}: key ${JSON.stringify(s)}`).toEqual([s]);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe.each(storeKinds)('export of any state the API can make, on %s', (_kind, freshStore) => {
  let store: Store;
  let app: FastifyInstance;
  let base: string;
  let accounts = 0;
  /** How often the runs met what this test is about (checked after the property, so it cannot go stale). */
  const met = { quotedEmail: 0, quotedKey: 0, quotedName: 0, signedUpAndExported: 0 };

  beforeAll(async () => {
    store = await freshStore();
    app = await buildServer({ store, rateLimit: 1_000_000 });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
  });

  /** The API's answer; it may refuse (4xx, coded) but never fail. */
  async function call(token: string, method: string, path: string, body: unknown): Promise<number> {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await res.json()) as { error?: { code?: string } };
    expect(res.status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(answer)}`).toBeLessThan(
      500,
    );
    // 414: Fastify refuses path parameters over 100 characters (long e-mails) before any route runs.
    if (res.status >= 400 && res.status !== 414) expect(answer.error?.code).toMatch(/^[A-Z_]+$/);
    return res.status;
  }

  it('export, then plan of the exported file: no changes, and every reader reads the same strings', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, fc.constantFrom('n', '1e', '0x', '00', 'y'), async (s, idStyle) => {
        // Account ids are slugs too: `17`, `1e17`, `0x17`, `0017` read as numbers, `y17` is plain.
        const id = `${idStyle}${++accounts}`;
        const keys = ['default', ...s.groups.map(([k]) => k)];
        const lines = ['version: 1', 'account:', `  id: ${independentQuote(id)}`];
        lines.push(`  name: ${independentQuote(s.accountName)}`, '  creditLimit: 1000000', 'groups:');
        lines.push('  default:', '    allocation: 10000');
        for (const [key, name] of s.groups) {
          lines.push(`  ${independentQuote(key)}:`, `    name: ${independentQuote(name)}`);
          lines.push('    allocation: 10000');
        }
        for (const [i, key] of keys.entries()) {
          const mine = s.declared.filter(([, g]) => g % keys.length === i);
          if (mine.length === 0) continue;
          const at = lines.indexOf(`  ${key === 'default' ? key : independentQuote(key)}:`);
          const members = mine.flatMap(([e, , a]) => [
            `      ? ${independentQuote(e)}`,
            `      : ${a ?? '{}'}`,
          ]);
          lines.splice(at + 1, 0, '    members:', ...members);
        }
        const file = lines.join('\n') + '\n';
        const loaded = loadConfig(file, { file: 'initial.yaml' });
        if (!loaded.ok) throw new Error(`${file}\n${loaded.errors.map((e) => e.message).join('\n')}`);
        await applyPlan(store, await makePlan(store, { bytes: file, file: 'initial.yaml' }), {
          actor: 'prop',
        });

        const admin = (await createToken(store, { accountId: id, role: 'admin' })).token;
        const people = s.declared.map(([e]) => e);
        for (const a of s.actions) {
          if (a.kind === 'signup') {
            if ((await call(admin, 'POST', '/v1/users', { email: a.email })) < 300) people.push(a.email);
          } else if (a.kind === 'member' && people.length) {
            const patch: Record<string, unknown> = {};
            if (a.allocation !== undefined) patch.allocation = a.allocation;
            if (a.extra !== undefined) patch.extra = a.extra;
            if (a.group !== undefined) patch.group = keys[a.group % keys.length];
            if (Object.keys(patch).length === 0) patch.extra = '1';
            const who = people[a.who % people.length]!;
            await call(admin, 'PATCH', `/v1/members/${encodeURIComponent(who)}`, patch);
          } else if (a.kind === 'group-name') {
            const key = keys[a.group % keys.length]!;
            await call(admin, 'PATCH', `/v1/groups/${encodeURIComponent(key)}`, { name: a.name });
          } else if (a.kind === 'account-name') {
            await call(admin, 'PATCH', '/v1/settings', { name: a.name });
          } else if (a.kind === 'cycle') {
            await call(admin, 'PATCH', '/v1/settings', { cadence: a.cadence, timezone: a.timezone });
          }
        }

        const exported = await exportYaml(store, id);
        if (/^ {6}\??\s*"[^"\n]*@/m.test(exported)) met.quotedEmail++;
        if (/^ {2}"/m.test(exported)) met.quotedKey++;
        if (/^ {2,4}name: "/m.test(exported)) met.quotedName++;
        if (people.slice(s.declared.length).some((e) => exported.includes(yamlString(e.toLowerCase())))) {
          met.signedUpAndExported++;
        }
        const result = loadConfig(exported, { file: 'live.yaml' });
        if (!result.ok) throw new Error(`${exported}\n${result.errors.map((e) => e.message).join('\n')}`);
        const live = (await inspect(store, id)).state as DeclaredState;
        // The database may sort in another collation; the loader sorts by code unit.
        const byEmail = (m: { email: string }[]) => [...m].sort((a, b) => (a.email < b.email ? -1 : 1));
        const byKey = (g: { key: string }[]) => [...g].sort((a, b) => (a.key < b.key ? -1 : 1));
        expect({ ...result.desired, members: byEmail(result.desired.members) }).toEqual({
          ...live,
          groups: byKey(live.groups),
          members: byEmail(live.members),
        });
        const expected = stringsOf(jsYaml.load(exported, { schema: EXACT_SCHEMA }));
        expect(expected.id).toBe(id);
        expect(expected.name).toBe(live.account.name);
        for (const [reader, read] of READERS.slice(1))
          expect(stringsOf(read(exported)), reader).toEqual(expected);

        const plan = await makePlan(store, { bytes: exported, file: 'live.yaml' });
        expect(plan.plan.changes, exported).toEqual([]);
        const full = await makePlan(store, { bytes: exported, file: 'live.yaml', reuseApplied: false });
        expect(full.plan.changes, exported).toEqual([]);
      }),
      { numRuns: 40 },
    );
    expect(met.quotedEmail).toBeGreaterThan(5);
    expect(met.quotedKey).toBeGreaterThan(10);
    expect(met.quotedName).toBeGreaterThan(20);
    expect(met.signedUpAndExported).toBeGreaterThan(3);
  });
});
