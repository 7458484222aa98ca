// Lint rules, including the layering of DESIGN §8: pure layers never reach I/O, nothing imports the CLI.
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
                ...layer('apply'),
                ...layer('ledger'),
                ...layer('api'),
                ...layer('cli'),
              ],
              message: 'config/, plan/ and render/ never import state/, apply/, ledger/, api/ or cli/.',
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
