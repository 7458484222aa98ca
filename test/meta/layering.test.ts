// The layering is an ESLint rule (eslint.config.js, run by `npm test`); prove that it fires.
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

async function violations(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering lint rule', () => {
  it.each([
    ['src/config/x.ts', "import pg from 'pg';"],
    ['src/plan/x.ts', "import { inspect } from '../state/inspect.js';"],
    ['src/render/x.ts', "import { applyPlan } from '../apply/apply-plan.js';"],
    ['src/plan/x.ts', "import { readFileSync } from 'node:fs';"],
    ['src/state/x.ts', "import { main } from '../cli/main.js';"],
    ['src/ledger/x.ts', "import { x } from '../api/server.js';"],
    ['src/api/x.ts', "import pg from 'pg';"],
    ['src/api/x.ts', "import { main } from '../cli/main.js';"],
    ['src/plan/x.ts', "import { makePlan } from '../planner/plan-against-store.js';"],
    ['src/planner/x.ts', "import { applyPlan } from '../apply/apply-plan.js';"],
    ['src/planner/x.ts', "import { main } from '../cli/main.js';"],
  ])('%s may not: %s', async (file, code) => {
    expect(await violations(file, `${code}\nexport {};\n`)).not.toEqual([]);
  });

  it.each([
    ['src/plan/x.ts', "import { cmp } from '../decimal.js';"],
    ['src/apply/x.ts', "import { inspect } from '../state/inspect.js';"],
    ['src/cli/x.ts', "import { applyPlan } from '../apply/apply-plan.js';"],
    ['src/planner/x.ts', "import { inspect } from '../state/inspect.js';"],
    ['src/apply/x.ts', "import { makePlan } from '../planner/plan-against-store.js';"],
    ['src/plan/x.ts', "import type { LiveState } from '../live-state.js';"],
  ])('%s may: %s', async (file, code) => {
    expect(await violations(file, `${code}\nexport {};\n`)).toEqual([]);
  });
});

async function sqlCalls(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return result!.messages.filter((m) => m.ruleId === 'local/no-sql-outside-store').map((m) => m.message);
}

describe('SQL outside state/ and ledger/ is a lint error', () => {
  it.each([
    ['src/apply/x.ts', "await tx.query('SELECT 1');"],
    ['src/api/x.ts', "await c.store.query('DELETE FROM members');"],
    ['src/cli/commands/x.ts', "await store.exec('ANALYZE');"],
    ['src/apply/x.ts', "await tx.copyRows!('audit_log', ['a'], []);"],
    ['src/apply/x.ts', "await copyRows('audit_log', ['a'], []);"],
    ['src/plan/x.ts', 'const db = store; await db.exec(sql);'],
    ['src/x.ts', "const re = 'not a RegExp'; re.exec(text);"],
  ])('%s may not: %s', async (file, code) => {
    expect(
      await sqlCalls(
        file,
        `declare const tx: any, store: any, c: any, sql: string, text: string;\ndeclare function copyRows(...a: unknown[]): Promise<void>;\n${code}\nexport {};\n`,
      ),
    ).not.toEqual([]);
  });

  it.each([
    ['src/state/x.ts', "await tx.query('SELECT 1'); await store.exec('ANALYZE');"],
    ['src/ledger/x.ts', "await tx.copyRows!('audit_log', ['a'], []); await tx.query('SELECT 1');"],
    ['src/state/declared/x.ts', "await tx.query('SELECT 1');"],
    ['src/config/x.ts', '/^a+$/.exec(text);'],
    ['src/config/x.ts', 'const LINE = /^a+$/gm; LINE.exec(text);'],
    ['src/render/x.ts', "new RegExp('a').exec(text);"],
  ])('%s may: %s', async (file, code) => {
    expect(
      await sqlCalls(file, `declare const tx: any, store: any, text: string;\n${code}\nexport {};\n`),
    ).toEqual([]);
  });
});
