// What the editor shows: the real YAML language server (the one VS Code and other editors run), started over
// stdio with schema/credits.schema.json, flags every examples/invalid file refused for a schema-level reason
// at the line and column `credits validate` reports, and leaves the valid examples alone. Semantic rules
// (budget sums, members across groups, time zone validity) and YAML-stage limits are `credits validate` only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadConfig } from '../../src/config/load-config.js';
import type { ErrorCode } from '../../src/errors.js';
import { YamlLanguageServer, type Diagnostic } from './lsp-client.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const invalidDir = `${root}examples/invalid/`;
const expected = JSON.parse(readFileSync(`${invalidDir}expected.json`, 'utf8')) as Record<
  string,
  { code: ErrorCode; line: number; col: number }
>;

/** Codes of the schema stage, and of the semantic rules the schema also says (cadence, e-mail). */
const EDITOR_CODES = new Set<ErrorCode>([
  'SCHEMA_UNKNOWN_KEY',
  'SCHEMA_REQUIRED',
  'SCHEMA_TYPE',
  'SCHEMA_VALUE',
  'BAD_SLUG',
  'BAD_EMAIL',
  'UNKNOWN_CADENCE',
  'NUMBER_NEGATIVE',
  'NUMBER_NON_FINITE',
  'NUMBER_PRECISION',
  'NUMBER_TOO_LARGE',
  'ALERT_THRESHOLD_RANGE',
  'ALERT_THRESHOLD_DUPLICATE',
  'ALERT_BAD_SECRET_ENV',
  'ALERT_UNKNOWN_SCOPE',
]);
/** Codes of semantic rules no JSON Schema can say: sums, cross-group uniqueness, the time zone database. */
const SEMANTIC_ONLY = new Set<ErrorCode>([
  'ACCOUNT_OVER_LIMIT',
  'GROUP_OVER_BUDGET',
  'AUTO_APPROVE_OVER_BUDGET',
  'MEMBER_DUPLICATE',
  'MEMBER_IN_TWO_GROUPS',
  'UNKNOWN_TIMEZONE',
  // http:// is refused for hosts other than the machine itself, and a url repeated: not in the schema.
  'ALERT_BAD_URL',
  'ALERT_WEBHOOK_DUPLICATE',
]);
/** Schema-level files the editor cannot flag, and why (docs/yaml-reference.md lists them too). */
const CLI_ONLY_FILES: Record<string, string> = {
  'number-just-over-max.yaml': 'the editor reads 1000000000000000.000001 as a float, which is exactly 10^15',
};
/** Where the editor marks a problem at another column than the CLI, and why. */
const EDITOR_POSITION: Record<string, { line: number; col: number; why: string }> = {
  'alert-threshold-duplicate.yaml': {
    line: 11,
    col: 15,
    why: 'the schema says the list has a repeat: the editor marks the list, the CLI the second 80',
  },
  'group-null.yaml': {
    line: 9,
    col: 8,
    why: 'an empty value: the editor marks where it would be, the CLI its key',
  },
};

const invalidFiles = readdirSync(invalidDir).filter((name) => name.endsWith('.yaml'));
const schemaLevel = invalidFiles.filter((n) => EDITOR_CODES.has(expected[n]!.code) && !(n in CLI_ONLY_FILES));
const semanticOnly = invalidFiles.filter((n) => SEMANTIC_ONLY.has(expected[n]!.code));
const validExamples = readdirSync(`${root}examples`).filter((name) => name.endsWith('.yaml'));

const schemaUri = pathToFileURL(`${root}schema/credits.schema.json`).href;
// examples/invalid/*.yaml carry no modeline (their first line says what is wrong): associate the schema by
// setting, as a workspace would. Every other file below relies on its modeline, as README says.
const server = new YamlLanguageServer({
  yaml: {
    validate: true,
    hover: true,
    completion: true,
    schemaStore: { enable: false },
    schemas: { [schemaUri]: 'examples/invalid/*.yaml' },
  },
});

async function diagnose(relativePath: string, text?: string): Promise<Diagnostic[]> {
  const uri = pathToFileURL(`${root}${relativePath}`).href;
  const diagnostics = await server.diagnose(uri, text ?? readFileSync(`${root}${relativePath}`, 'utf8'));
  await server.close(uri);
  return diagnostics;
}

/** 1-based line:col of each diagnostic, with its message. */
const positions = (diagnostics: Diagnostic[]): string[] =>
  diagnostics.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${d.message}`);

beforeAll(async () => {
  await server.start(root);
}, 60_000);

afterAll(async () => {
  await server.stop();
  // The schema is a local file; its `$id` and `$schema` must not send the server to the network.
  expect(server.stderr.join('')).not.toContain('NETWORK ACCESS');
}, 60_000);

describe('the editor flags what the schema stage of `credits validate` refuses', () => {
  it('covers every schema-level file of examples/invalid but the listed exceptions', () => {
    expect(schemaLevel.length + Object.keys(CLI_ONLY_FILES).length).toBe(
      invalidFiles.filter((n) => EDITOR_CODES.has(expected[n]!.code)).length,
    );
    expect(schemaLevel.length).toBeGreaterThanOrEqual(34);
  });

  it.each(schemaLevel)('%s is flagged at the CLI position', async (name) => {
    const want = expected[name]!;
    // The CLI's own answer, so this test and invalid-examples.test.ts agree on the position.
    const cli = loadConfig(readFileSync(`${invalidDir}${name}`), { file: name });
    expect(cli.ok).toBe(false);
    const at = EDITOR_POSITION[name] ?? want;
    const diagnostics = await diagnose(`examples/invalid/${name}`);
    const here = diagnostics.filter(
      (d) => d.range.start.line + 1 === at.line && d.range.start.character + 1 === at.col,
    );
    expect(
      here,
      `${want.code} at ${at.line}:${at.col}; editor: ${positions(diagnostics).join(' | ')}`,
    ).not.toEqual([]);
    // Messages are sentences, not the schema's raw regular expressions.
    for (const d of diagnostics) expect(d.message).not.toMatch(/pattern of "\^/);
  });
});

describe('`credits validate` only', () => {
  it.each(semanticOnly)('%s (a semantic rule) is schema-valid: the editor shows nothing', async (name) => {
    expect(positions(await diagnose(`examples/invalid/${name}`))).toEqual([]);
  });
});

describe('valid files', () => {
  it.each(validExamples)('examples/%s (schema by its modeline) has no diagnostics', async (name) => {
    expect(readFileSync(`${root}examples/${name}`, 'utf8')).toMatch(/^# yaml-language-server: \$schema=/);
    expect(positions(await diagnose(`examples/${name}`))).toEqual([]);
  });

  it('credits.yaml (the modeline README shows) has no diagnostics', async () => {
    expect(positions(await diagnose('credits.yaml'))).toEqual([]);
  });
});

describe('the modeline README shows', () => {
  const base = readFileSync(`${root}credits.yaml`, 'utf8');

  it.each([
    ['fortnightly', 'Unknown cadence'],
    ['25h', 'Unknown cadence'],
    ['1441m', 'Unknown cadence'],
  ])('flags cadence: %s with a readable message', async (cadence, message) => {
    const edited = withCadence(base, cadence);
    const cli = loadConfig(edited, { file: 'credits.yaml' });
    expect(cli.ok ? [] : cli.errors.map((e) => e.code)).toEqual(['UNKNOWN_CADENCE']);
    const { line, col } = cli.ok ? { line: 0, col: 0 } : cli.errors[0]!.position!;
    const diagnostics = await diagnose('credits.yaml', edited);
    expect(positions(diagnostics)).toEqual([expect.stringMatching(new RegExp(`^${line}:${col} ${message}`))]);
  });

  it('flags a member key that is not an e-mail address (cleo@tinyco) where the CLI does', async () => {
    const edited = withMember(base, 'cleo@tinyco');
    const cli = loadConfig(edited, { file: 'credits.yaml' });
    expect(cli.ok ? [] : cli.errors.map((e) => e.code)).toEqual(['BAD_EMAIL']);
    const { line, col } = cli.ok ? { line: 0, col: 0 } : cli.errors[0]!.position!;
    expect(positions(await diagnose('credits.yaml', edited))).toEqual([
      expect.stringMatching(new RegExp(`^${line}:${col} Not an e-mail address`)),
    ]);
  });
});

describe('alert thresholds', () => {
  it('2 decimal places pass in the editor as in the CLI (multipleOf 0.01 on floats refuses none of them)', async () => {
    const base = readFileSync(`${root}credits.yaml`, 'utf8');
    const thresholds = ['0.01', '0.07', '1.1', '33.33', '57.7', '64.99', '80.15', '99.99', '100'];
    const edited = `${base}alerts:\n  thresholds: [${thresholds.join(', ')}]\n`;
    expect(loadConfig(edited, { file: 'credits.yaml' }).ok).toBe(true);
    expect(positions(await diagnose('credits.yaml', edited))).toEqual([]);
  });
});

describe('hover', () => {
  it.each([
    ['alice@acme.com', 'A member, keyed by e-mail'],
    ['bob@acme.com', 'A member, keyed by e-mail'],
    ['carol@acme.com', 'A member, keyed by e-mail'],
    ['cadence', 'Cadence'],
    ['autoApprove', 'Per-cycle reserve for requests approved without a human'],
  ])('%s shows its description', async (key, text) => {
    const source = readFileSync(`${root}credits.yaml`, 'utf8');
    const uri = pathToFileURL(`${root}credits.yaml`).href;
    await server.diagnose(uri, source);
    const lines = source.split('\n');
    const line = lines.findIndex((l) => l.trimStart().startsWith(`${key}:`));
    const hover = await server.hover(uri, line, lines[line]!.indexOf(key) + 1);
    await server.close(uri);
    expect(hover).toContain(text);
  });
});

/** credits.yaml with its cycle's cadence set (the shipped file declares one). */
function withCadence(text: string, cadence: string): string {
  expect(text).toMatch(/^ {4}cadence: \S+$/m);
  return text.replace(/^( {4}cadence: )\S+$/m, `$1${cadence}`);
}

/** credits.yaml with one more member in its first member map. */
function withMember(text: string, email: string): string {
  expect(text).toMatch(/^( +)members:\n/m);
  return text.replace(/^( +)members:\n/m, (all, indent: string) => `${all}${indent}  ${email}: {}\n`);
}
