// Every file in examples/invalid is refused with the first error a user expects (examples/invalid/expected.json),
// at the offending key or value; plus hostile input: huge files, alias bombs, code-running tags, many errors.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MAX_FILE_BYTES, loadConfig, type LoadResult } from '../../src/config/load-config.js';
import { ALIAS_EXPANSION_LIMIT } from '../../src/config/parse-yaml.js';
import { formatError, type CreditsError, type ErrorCode } from '../../src/errors.js';

interface Expected {
  code: ErrorCode;
  line: number;
  col: number;
}

const dir = fileURLToPath(new URL('../../examples/invalid/', import.meta.url));
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, Expected>;
const files = readdirSync(dir)
  .filter((name) => name !== 'expected.json')
  .sort();

/** The errors of a refused file; fails the test when the file was accepted. */
function errorsOf(result: LoadResult): CreditsError[] {
  if (result.ok) throw new Error('expected the file to be refused, but it loaded');
  expect(result.errors.length).toBeGreaterThan(0);
  return result.errors;
}

/** Every error is one line, positioned in `file`, and formats as `file:line:col  CODE  message` (+ hint). */
function expectWellFormed(errors: CreditsError[], file: string): void {
  for (const err of errors) {
    expect(err.message).not.toMatch(/[\r\n]/);
    expect(err.message.length).toBeGreaterThan(0);
    expect(err.position).toBeDefined();
    const { line, col } = err.position!;
    expect(err.position!.file).toBe(file);
    expect(line).toBeGreaterThanOrEqual(1);
    expect(col).toBeGreaterThanOrEqual(1);
    const [head, ...rest] = formatError(err).split('\n');
    expect(head).toBe(`${file}:${line}:${col}  ${err.code}  ${err.message}`);
    expect(rest).toEqual(err.hint ? [`  hint: ${err.hint}`] : []);
  }
}

const BASE = `version: 1
account:
  id: tinyco
  name: Tiny Co
  creditLimit: 10000
groups:
  team:
    allocation: 8000
    members:
      ana@tinyco.io: 2000
`;

describe('examples/invalid', () => {
  it('holds its 64 broken files, each small', () => {
    expect(files).toHaveLength(64);
    for (const name of files) expect(readFileSync(join(dir, name)).byteLength, name).toBeLessThan(4096);
  });

  it('every file has an entry in expected.json, and every entry a file', () => {
    expect(
      files.filter((name) => !(name in expected)),
      'files without an entry in expected.json',
    ).toEqual([]);
    expect(
      Object.keys(expected).filter((name) => !files.includes(name)),
      'entries of expected.json without a file',
    ).toEqual([]);
  });

  it.each(files)('%s', (name) => {
    const want = expected[name];
    expect(want, `examples/invalid/expected.json has no entry for ${name}`).toBeDefined();
    const errors = errorsOf(loadConfig(readFileSync(join(dir, name)), { file: name }));
    const first = errors[0]!;
    expect({ code: first.code, line: first.position?.line, col: first.position?.col }).toEqual(want);
    expectWellFormed(errors, name);
  });
});

describe('hostile input', () => {
  /** A credits file of exactly `size` bytes: a real header, then one member line over and over. */
  function bigFile(size: number): Buffer {
    const header = Buffer.from(BASE);
    return Buffer.concat([header, Buffer.alloc(size - header.byteLength, '      someone@tinyco.io: 1\n')]);
  }

  it('a 50 MB file over the configured limit is FILE_TOO_LARGE, refused before it is decoded', () => {
    const bytes = bigFile(50_000_000);
    const limit = 16 * 1024 * 1024;
    const errors = errorsOf(loadConfig(bytes, { file: 'huge.yaml', maxBytes: limit }));
    expect(errors.map((e) => e.code)).toEqual(['FILE_TOO_LARGE']);
    // The size reported is that of the bytes loadConfig was given.
    expect(errors[0]!.message).toBe(`file is 50000000 bytes; the limit is ${limit} bytes`);
    expect(errors[0]!.position).toEqual({ file: 'huge.yaml', line: 1, col: 1 });
    expectWellFormed(errors, 'huge.yaml');
  });

  it('a file one byte over the default limit is FILE_TOO_LARGE', () => {
    const bytes = bigFile(DEFAULT_MAX_FILE_BYTES + 1);
    const errors = errorsOf(loadConfig(bytes, { file: 'huge.yaml' }));
    expect(errors.map((e) => e.code)).toEqual(['FILE_TOO_LARGE']);
    expect(errors[0]!.message).toBe(
      `file is ${DEFAULT_MAX_FILE_BYTES + 1} bytes; the limit is ${DEFAULT_MAX_FILE_BYTES} bytes`,
    );
  });

  it('the limit counts UTF-8 bytes of a string, not characters', () => {
    const text = `${BASE}# ${'é'.repeat(600)}\n`;
    expect(text.length).toBeLessThan(1000);
    const errors = errorsOf(loadConfig(text, { file: 'f.yaml', maxBytes: 1000 }));
    expect(errors.map((e) => e.code)).toEqual(['FILE_TOO_LARGE']);
    expect(errors[0]!.message).toContain(`file is ${Buffer.byteLength(text)} bytes`);
  });

  it('alias bomb (billion laughs, 9 levels of 10 aliases) is YAML_ALIAS_LIMIT', () => {
    const levels = ['lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `lol${i}: &l${i} [${Array(10)
          .fill(`*l${i - 1}`)
          .join(', ')}]`,
      );
    const text = BASE.replace('  name: Tiny Co', '  name: *l8').replace(
      'version: 1\n',
      `version: 1\n${levels.join('\n')}\n`,
    );
    const errors = errorsOf(loadConfig(text, { file: 'bomb.yaml' }));
    expect(errors.map((e) => e.code)).toEqual(['YAML_ALIAS_LIMIT']);
    expect(errors[0]!.message).toContain(String(ALIAS_EXPANSION_LIMIT));
    expectWellFormed(errors, 'bomb.yaml');
  });

  it('alias bomb built from mappings is YAML_ALIAS_LIMIT', () => {
    const levels = ['m0: &m0 {a: 1, b: 2}'];
    for (let i = 1; i < 8; i++) {
      const keys = Array.from({ length: 10 }, (_, k) => `k${k}: *m${i - 1}`).join(', ');
      levels.push(`m${i}: &m${i} {${keys}}`);
    }
    const errors = errorsOf(loadConfig(`${levels.join('\n')}\n${BASE}`, { file: 'bomb.yaml' }));
    expect(errors.map((e) => e.code)).toEqual(['YAML_ALIAS_LIMIT']);
  });

  it('an alias to a list of plain values counts each value: 500 uses of 1,000 numbers is YAML_ALIAS_LIMIT', () => {
    const values = `[${Array(1000).fill('1').join(', ')}]`;
    const uses = `[${Array(500).fill('*x').join(', ')}]`;
    const text = `${BASE}big: &x ${values}\nuses: ${uses}\n`;
    const errors = errorsOf(loadConfig(text, { file: 'bomb.yaml' }));
    expect(errors.map((e) => [e.code, e.position!.line])).toEqual([['YAML_ALIAS_LIMIT', 12]]);
  });

  it('scalars count toward the limit exactly: 10,000 repeated nodes pass, 10,001 do not', () => {
    // A list of 99 scalars is 100 nodes; 100 aliases to it repeat 10,000.
    const list = (n: number): string => `[${Array(n).fill('a').join(', ')}]`;
    const file = (n: number): string =>
      `big: &x ${list(n)}\nuses: [${Array(100).fill('*x').join(', ')}]\n${BASE}`;
    const codes = (text: string): string[] => {
      const r = loadConfig(text, { file: 'f.yaml' });
      return r.ok ? [] : r.errors.map((e) => e.code);
    };
    expect(codes(file(99))).not.toContain('YAML_ALIAS_LIMIT'); // refused later, for its unknown keys
    expect(codes(file(100))).toEqual(['YAML_ALIAS_LIMIT']);
  });

  it('a few aliases within the limit are fine', () => {
    const text = BASE.replace('allocation: 8000', 'allocation: &a 8000').replace(
      'ana@tinyco.io: 2000',
      'ana@tinyco.io: &m { allocation: 100 }\n      ben@tinyco.io: *m',
    );
    const result = loadConfig(text, { file: 'f.yaml' });
    expect(result.ok).toBe(true);
  });

  describe('code-running tags never run', () => {
    const payload = `'function () { globalThis.__creditsPwned = true; return "x"; }'`;
    const cases: [string, string][] = [
      ['!!js/function', `  name: !!js/function ${payload}`],
      ['verbatim !<tag:yaml.org,2002:js/function>', `  name: !<tag:yaml.org,2002:js/function> ${payload}`],
      ['!!js/function as a key', `  ? !!js/function ${payload}\n  : 1`],
      ['!!js/undefined', `  name: !!js/undefined ''`],
      ['!!js/regexp', `  name: !!js/regexp /x/g`],
      ['!!python/object', `  name: !!python/object:os.system ['touch /tmp/pwned']`],
    ];
    it.each(cases)('%s is YAML_TAG and leaves no trace', (_label, line) => {
      const g = globalThis as { __creditsPwned?: unknown };
      delete g.__creditsPwned;
      const text = BASE.replace('  name: Tiny Co', line);
      const errors = errorsOf(loadConfig(text, { file: 'tag.yaml' }));
      expect(errors.map((e) => e.code)).toEqual(['YAML_TAG']);
      expect(errors[0]!.position).toMatchObject({ line: 4 });
      expect(g.__creditsPwned).toBeUndefined();
    });

    it('examples/invalid/tag-js-function.yaml does not set its global', () => {
      const g = globalThis as { __creditsPwned?: unknown };
      delete g.__creditsPwned;
      const errors = errorsOf(loadConfig(readFileSync(join(dir, 'tag-js-function.yaml')), { file: 'f' }));
      expect(errors[0]!.code).toBe('YAML_TAG');
      expect(g.__creditsPwned).toBeUndefined();
    });
  });

  it('a __proto__ key is reported, and pollutes no prototype', () => {
    const text = BASE.replace('  name: Tiny Co', '  __proto__: { polluted: true }');
    const errors = errorsOf(loadConfig(text, { file: 'proto.yaml' }));
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      ['SCHEMA_UNKNOWN_KEY', 'unknown key __proto__ in account'],
    ]);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect((Object.prototype as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('deep nesting is YAML_TOO_DEEP, not a stack overflow', () => {
    const text = `${BASE}x: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`;
    expect(errorsOf(loadConfig(text, { file: 'deep.yaml' })).map((e) => e.code)).toEqual(['YAML_TOO_DEEP']);
  });
});

describe('all errors are reported at once', () => {
  it('three independent schema problems give three errors, top to bottom', () => {
    const text = `version: 1
account:
  id: tinyco
  creditLimit: -5
groups:
  team:
    allocation: 8000
    protect: yes
    members:
      ana@tinyco.io: { allocation: 10, bonus: 5 }
`;
    const errors = errorsOf(loadConfig(text, { file: 'three.yaml' }));
    expect(errors.map((e) => [e.code, e.position!.line, e.position!.col])).toEqual([
      ['NUMBER_NEGATIVE', 4, 16],
      ['SCHEMA_TYPE', 8, 14],
      ['SCHEMA_UNKNOWN_KEY', 10, 40],
    ]);
    expectWellFormed(errors, 'three.yaml');
  });

  it('two duplicate keys give two errors', () => {
    const text = BASE.replace('  name: Tiny Co\n', '  name: Tiny Co\n  id: again\n').replace(
      'ana@tinyco.io: 2000',
      'ana@tinyco.io: 2000\n      ana@tinyco.io: 3',
    );
    const errors = errorsOf(loadConfig(text, { file: 'dup.yaml' }));
    expect(errors.map((e) => [e.code, e.position!.line, e.position!.col, e.message])).toEqual([
      ['YAML_DUPLICATE_KEY', 5, 3, 'duplicate key id'],
      ['YAML_DUPLICATE_KEY', 12, 7, 'duplicate key ana@tinyco.io'],
    ]);
    expectWellFormed(errors, 'dup.yaml');
  });

  it('every tag and duplicate key, then the next problem of another kind (here a second document)', () => {
    const text = `${BASE.replace('  name: Tiny Co\n', '  name: !env NAME\n  name: x\n')}x: {a: 1, a: !!binary AA==}\n---\nb: 1\n`;
    const errors = errorsOf(loadConfig(text, { file: 'many.yaml' }));
    expect(errors.map((e) => [e.code, e.position!.line, e.position!.col])).toEqual([
      ['YAML_TAG', 4, 9],
      ['YAML_DUPLICATE_KEY', 5, 3],
      ['YAML_DUPLICATE_KEY', 12, 11],
      ['YAML_TAG', 12, 14],
      ['YAML_MULTI_DOCUMENT', 13, 1],
    ]);
    expectWellFormed(errors, 'many.yaml');
  });

  it('a duplicate key and an alias bomb: both', () => {
    const levels = ['l0: &l0 [a, a, a, a, a, a, a, a, a, a]'];
    for (let i = 1; i < 6; i++)
      levels.push(
        `l${i}: &l${i} [${Array(10)
          .fill(`*l${i - 1}`)
          .join(', ')}]`,
      );
    const text = `${BASE}team2: 1\nteam2: 2\n${levels.join('\n')}\n`;
    const errors = errorsOf(loadConfig(text, { file: 'f.yaml' }));
    expect(errors.map((e) => e.code)).toEqual(['YAML_DUPLICATE_KEY', 'YAML_ALIAS_LIMIT']);
  });

  it('a duplicate key and nesting thousands deep: both, and no stack overflow', () => {
    const text = `${BASE}team2: 1\nteam2: 2\nx: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`;
    const errors = errorsOf(loadConfig(text, { file: 'f.yaml' }));
    expect(errors.map((e) => e.code)).toEqual(['YAML_DUPLICATE_KEY', 'YAML_TOO_DEEP']);
  });

  it('a syntax error is reported alone: the rest of the file cannot be read reliably', () => {
    const text = `${BASE}x: [\nversion: 2\nversion: 3\n`;
    const errors = errorsOf(loadConfig(text, { file: 'f.yaml' }));
    expect(errors.map((e) => e.code)).toEqual(['YAML_SYNTAX']);
  });

  it('two semantic problems give two errors', () => {
    const text = `version: 1
account:
  id: tinyco
  creditLimit: 10000
  cycle:
    timezone: Europe/Berln
groups:
  team:
    allocation: 100
    members:
      ana@tinyco.io: 2000
`;
    const errors = errorsOf(loadConfig(text, { file: 'two.yaml' }));
    expect(errors.map((e) => [e.code, e.position!.line, e.position!.col])).toEqual([
      ['UNKNOWN_TIMEZONE', 6, 15],
      ['GROUP_OVER_BUDGET', 10, 5],
    ]);
    expectWellFormed(errors, 'two.yaml');
  });

  it('semantic rules do not run on a file that fails the schema', () => {
    const text = BASE.replace('allocation: 8000', 'allocation: 10\n    bonus: 1');
    const errors = errorsOf(loadConfig(text, { file: 'f.yaml' }));
    expect(errors.map((e) => e.code)).toEqual(['SCHEMA_UNKNOWN_KEY']);
  });
});
