import { defineConfig } from 'vitest/config';

/**
 * The sync fault suite (`npm run test:faults`): scenarios with real waits (outages, throttling
 * windows, killed processes), kept out of the unit suite. `FERRY_FAULTS=bounded` is CI's
 * shorter form.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.faults.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Stops the PostgreSQL cluster a test file may have started for the run (test/support/postgres.ts).
    globalSetup: ['test/support/postgres-global.ts'],
    // One scenario at a time: each measures convergence times on the machine's clock.
    fileParallelism: false,
    sequence: { concurrent: false },
    expect: { requireAssertions: true },
  },
});
