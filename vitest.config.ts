import { defineConfig } from 'vitest/config';

// Two projects: `unit` is pure code (no database, no server, no browser) and starts nothing, so
// `npx vitest run test/config` takes seconds; `integration` gets the throw-away PostgreSQL cluster.
const unit = [
  'test/config/**/*.test.ts',
  'test/plan/**/*.test.ts',
  'test/render/**/*.test.ts',
  'test/meta/**/*.test.ts',
  'test/ledger/cycle-windows.test.ts',
  'test/engine/diff-members.property.test.ts',
  'test/web/decimal.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // expect.poll waits for a page or a server to catch up; 1 s (the default) is too short on a loaded machine.
    expect: { poll: { timeout: 10_000 } },
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    projects: [
      { extends: true, test: { name: 'unit', include: unit } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: unit,
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
