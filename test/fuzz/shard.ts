import { describe, expect, it } from 'vitest';
import { ROUTES, RUNS_PER_ROUTE, TOTAL_REQUESTS, executed, fuzzRoute } from './run.js';

/** The fuzz is split over files so that vitest runs the halves in parallel, one per core. */
export const SHARDS = 2;

/**
 * Declares the tests of one shard: one per route it owns (every `SHARDS`-th route of the
 * document, sorted), then one that checks the shard sent its share of `FUZZ_REQUESTS`.
 */
export function fuzzShard(shard: number): void {
  const mine = ROUTES.filter((_, i) => i % SHARDS === shard);
  // A long run (npm run test:fuzz) sends many more requests per route than the bounded one.
  const timeout = Math.max(120_000, RUNS_PER_ROUTE * 1_000);
  describe(`API fuzz, shard ${shard + 1} of ${SHARDS}: ${RUNS_PER_ROUTE} generated requests per OpenAPI route`, () => {
    for (const route of mine) {
      it(route.key, async () => {
        const sent = await fuzzRoute(route);
        // A few generated requests may be ones the injector cannot express; nearly all must go out.
        expect(sent).toBeGreaterThanOrEqual(Math.floor(RUNS_PER_ROUTE * 0.9));
      }, timeout);
    }

    it('sent its share of the requests, to every one of its routes', () => {
      const total = mine.reduce((n, r) => n + (executed.get(r.key) ?? 0), 0);
      for (const route of mine) expect(executed.get(route.key) ?? 0, route.key).toBeGreaterThan(0);
      // Shares add up to FUZZ_REQUESTS less at most 1% the injector refused: ≥ 10,000 for the default 10,500.
      expect(total).toBeGreaterThanOrEqual(Math.floor(((TOTAL_REQUESTS * 0.99) * mine.length) / ROUTES.length) - mine.length);
    });
  });
}
