// The layering of DESIGN §8 is an ESLint rule (eslint.config.js, run by `npm test`); prove that it fires.
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
  ])('%s may not: %s', async (file, code) => {
    expect(await violations(file, `${code}\nexport {};\n`)).not.toEqual([]);
  });

  it.each([
    ['src/plan/x.ts', "import { cmp } from '../decimal.js';"],
    ['src/apply/x.ts', "import { inspect } from '../state/inspect.js';"],
    ['src/cli/x.ts', "import { applyPlan } from '../apply/apply-plan.js';"],
  ])('%s may: %s', async (file, code) => {
    expect(await violations(file, `${code}\nexport {};\n`)).toEqual([]);
  });
});
