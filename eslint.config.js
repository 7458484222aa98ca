// Lint rules, including the layering: pure layers never reach I/O, nothing imports the CLI, SQL stays in state/ and ledger/.
import tseslint from 'typescript-eslint';

const drivers = [
  'pg',
  'pg-*',
  '@electric-sql/*',
  'node:fs',
  'node:fs/*',
  'node:child_process',
  'node:net',
  'fastify',
  '@fastify/*',
];
// SQL lives in src/state and src/ledger only: elsewhere a call of `.query(`, `.exec(` (on anything not known to
// be a RegExp) or `copyRows(` is refused; call a function of state/ or ledger/ instead.
const isRegExp = (node, scope, depth = 0) => {
  if (!node) return false;
  if (node.type === 'Literal' && node.regex) return true;
  if (
    (node.type === 'NewExpression' || node.type === 'CallExpression') &&
    node.callee.type === 'Identifier' &&
    node.callee.name === 'RegExp'
  )
    return true;
  if (node.type !== 'Identifier' || depth > 2) return false;
  for (let s = scope; s; s = s.upper) {
    const variable = s.set.get(node.name);
    if (!variable) continue;
    const def = variable.defs[0];
    return def?.type === 'Variable' && def.parent.kind === 'const' && isRegExp(def.node.init, s, depth + 1);
  }
  return false;
};
const noSqlOutsideStore = {
  meta: {
    type: 'problem',
    schema: [],
    messages: {
      sql: 'SQL lives in src/state and src/ledger: `{{call}}` here is refused; call a function there.',
    },
  },
  create(context) {
    return {
      CallExpression(node) {
        // `tx.copyRows!(…)`: the non-null assertion wraps the member expression.
        const callee = node.callee.type === 'TSNonNullExpression' ? node.callee.expression : node.callee;
        if (callee.type === 'Identifier' && callee.name === 'copyRows') {
          context.report({ node, messageId: 'sql', data: { call: 'copyRows(' } });
          return;
        }
        if (callee.type !== 'MemberExpression' || callee.computed || callee.property.type !== 'Identifier')
          return;
        const name = callee.property.name;
        if (name === 'query' || name === 'copyRows') {
          context.report({ node, messageId: 'sql', data: { call: `.${name}(` } });
        } else if (name === 'exec' && !isRegExp(callee.object, context.sourceCode.getScope(node))) {
          context.report({ node, messageId: 'sql', data: { call: '.exec(' } });
        }
      },
    };
  },
};
const layer = (name) => [`**/${name}/*`, `../${name}/*`, `./${name}/*`];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'bench/out/**',
      'src/config/generated/**',
      '.credits/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts', 'src/**/*.js'],
    ignores: ['src/state/**', 'src/ledger/**'],
    plugins: { local: { rules: { 'no-sql-outside-store': noSqlOutsideStore } } },
    rules: { 'local/no-sql-outside-store': 'error' },
  },
  {
    // Pure layers: no database, no file system, no server, no runtime layers.
    files: ['src/config/**/*.ts', 'src/plan/**/*.ts', 'src/render/**/*.ts'],
    ignores: ['src/config/load-file.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: drivers, message: 'config/, plan/ and render/ are pure: no I/O or database drivers.' },
            {
              group: [
                ...layer('state'),
                ...layer('planner'),
                ...layer('apply'),
                ...layer('ledger'),
                ...layer('api'),
                ...layer('cli'),
              ],
              message:
                'config/, plan/ and render/ never import state/, planner/, apply/, ledger/, api/ or cli/.',
            },
          ],
        },
      ],
    },
  },
  {
    // Nothing imports cli/; only cli/ imports api/. api/ holds no SQL drivers.
    files: ['src/state/**/*.ts', 'src/apply/**/*.ts', 'src/ledger/**/*.ts', 'src/web/**/*.ts', 'src/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...layer('cli'), ...layer('api')],
              message: 'Only cli/ imports api/; nothing imports cli/.',
            },
          ],
        },
      ],
    },
  },
  {
    // planner/ plans a file against a store; apply/ applies plans and re-plans saved ones, so it imports
    // planner/, never the other way round.
    files: ['src/planner/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...layer('cli'), ...layer('api'), ...layer('apply')],
              message: 'planner/ imports neither apply/ (which imports it) nor api/ or cli/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: layer('cli'), message: 'Nothing imports cli/.' },
            { group: ['pg', '@electric-sql/*'], message: 'api/ is thin: SQL lives in state/ and ledger/.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['pg', '@electric-sql/*'], message: 'cli/ is thin: SQL lives in state/ and ledger/.' },
          ],
        },
      ],
    },
  },
);
