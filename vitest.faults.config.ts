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
    // One scenario at a time: each measures convergence times on the machine's clock.
    fileParallelism: false,
    sequence: { concurrent: false },
    expect: { requireAssertions: true },
  },
});
