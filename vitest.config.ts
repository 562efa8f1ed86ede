import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The web UI's assets are built once before any test (when missing or stale), so servers
    // that tests start do not each build them (src/ui-build.ts); the PostgreSQL cluster a test
    // file may start for the run is stopped at its end (test/support/postgres.ts).
    globalSetup: ['test/support/build-ui.ts', 'test/support/postgres-global.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // A test that asserts nothing cannot fail: every test must reach at least one expect().
    expect: { requireAssertions: true },
  },
});
