import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The web UI's assets are built once before any test (when missing or stale), so servers
    // that tests start do not each build them (src/ui-build.ts).
    globalSetup: ['test/support/build-ui.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // A test that asserts nothing cannot fail: every test must reach at least one expect().
    expect: { requireAssertions: true },
  },
});
