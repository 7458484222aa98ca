// `rollover: { max }` on a member: read into the declared state, written back by export, and refused with a
// coded, positioned error when it cannot be honoured.
import { describe, expect, it } from 'vitest';
import { loadConfig, type LoadResult } from '../../src/config/load-config.js';
import { formatError, type CreditsError } from '../../src/errors.js';
import { renderYaml } from '../../src/render/yaml-export.js';

const file = (dave: string, creditLimit = '1000') => `version: 1
account:
  id: acme
  creditLimit: ${creditLimit}
groups:
  eng:
    allocation: 300
    members:
      dave@acme.com: ${dave}
      erin@acme.com: 100
`;

function errorsOf(result: LoadResult): CreditsError[] {
  if (result.ok) throw new Error('expected the file to be refused, but it loaded');
  return result.errors;
}

/** [code, line, col] of each error, each formatted `file:line:col  CODE  message`. */
function failures(text: string): [string, number, number][] {
  const errors = errorsOf(loadConfig(text, { file: 'acme.yaml' }));
  for (const err of errors) {
    const { line, col } = err.position!;
    expect(formatError(err).split('\n')[0]).toBe(`acme.yaml:${line}:${col}  ${err.code}  ${err.message}`);
  }
  return errors.map((e) => [e.code, e.position!.line, e.position!.col]);
}

describe('rollover in credits.yaml', () => {
  it('is read as the member’s rollover max and exported back as written', () => {
    const result = loadConfig(file('{ allocation: 100, rollover: { max: 30.5 } }'), { file: 'acme.yaml' });
    if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('; '));
    const dave = result.desired.members.find((m) => m.email === 'dave@acme.com')!;
    expect(dave).toEqual({
      email: 'dave@acme.com',
      group: 'eng',
      allocation: '100',
      extra: '0',
      rollover: '30.5',
    });
    expect(result.desired.members.find((m) => m.email === 'erin@acme.com')!.rollover).toBeUndefined();
    const exported = renderYaml(result.desired);
    expect(exported).toContain('dave@acme.com: { allocation: 100, rollover: { max: 30.5 } }');
    const again = loadConfig(exported, { file: 'export.yaml' });
    expect(again.ok && again.desired).toEqual(result.desired);
  });

  it.each([
    ['a negative max', '{ allocation: 100, rollover: { max: -1 } }', 'NUMBER_NEGATIVE', 9, 58],
    ['more than 6 places', '{ allocation: 100, rollover: { max: 0.0000001 } }', 'NUMBER_PRECISION', 9, 58],
    ['an unknown key', '{ allocation: 100, rollover: { max: 1, min: 0 } }', 'SCHEMA_UNKNOWN_KEY', 9, 61],
    ['no max', '{ allocation: 100, rollover: {} }', 'SCHEMA_REQUIRED', 9, 41],
    [
      'max over allocation + extra',
      '{ allocation: 100, extra: 5, rollover: { max: 105.000001 } }',
      'ROLLOVER_OVER_ALLOCATION',
      9,
      68,
    ],
    ['no allocation of their own', '{ rollover: { max: 1 } }', 'ROLLOVER_WITHOUT_ALLOCATION', 9, 24],
  ])('refuses %s', (_what, dave, code, line, col) => {
    expect(failures(file(dave))).toEqual([[code, line, col]]);
  });

  it('refuses carries that, with the groups’ budgets, exceed the account’s creditLimit', () => {
    expect(failures(file('{ allocation: 100, rollover: { max: 30 } }', '329.999999'))).toEqual([
      ['ROLLOVER_OVER_LIMIT', 4, 16],
    ]);
    expect(loadConfig(file('{ allocation: 100, rollover: { max: 30 } }', '330'), { file: 'a.yaml' }).ok).toBe(
      true,
    );
  });

  it("reads a group's rollover (its pool's), exports it, and refuses one larger than the pool", () => {
    const text = (max: string) =>
      file('100').replace('    allocation: 300\n', `    allocation: 300\n    rollover: { max: ${max} }\n`);
    const result = loadConfig(text('100'), { file: 'acme.yaml' });
    if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('; '));
    expect(result.desired.groups.find((g) => g.key === 'eng')!.rollover).toBe('100');
    const exported = renderYaml(result.desired);
    expect(exported).toContain('    rollover: { max: 100 }\n');
    const again = loadConfig(exported, { file: 'export.yaml' });
    expect(again.ok && again.desired).toEqual(result.desired);
    // The pool is 300 − 100 − 100 = 100.
    expect(failures(text('100.000001'))).toEqual([['ROLLOVER_OVER_POOL', 8, 22]]);
    expect(failures(text('1, maximum: 2'))).toEqual([['SCHEMA_UNKNOWN_KEY', 8, 25]]);
  });
});
