/**
 * The PostgreSQL the HA tests run on. A throwaway cluster of their own when this machine can
 * start one (so that restarting it disturbs no other file), else a fresh database on the
 * server `FERRY_TEST_PG_URL` names (no restart test then); undefined when there is neither — the
 * suites are skipped, saying how to run them.
 */
import { PG_AVAILABLE, PG_LOCAL_CLUSTERS, PG_SKIP_REASON, createTestDatabase, startPostgresCluster } from '../support/postgres.js';

export interface HaTestDatabase {
  url: string;
  /** Restarts the PostgreSQL server (only on a cluster of the tests' own); resolves once it accepts connections again. */
  restart?: () => Promise<void>;
  close(): Promise<void>;
}

export async function haTestDatabase(): Promise<HaTestDatabase | undefined> {
  if (!PG_AVAILABLE) {
    process.stdout.write(`${PG_SKIP_REASON}\n`);
    return undefined;
  }
  if (PG_LOCAL_CLUSTERS) {
    const cluster = await startPostgresCluster();
    return {
      url: cluster.url(),
      restart: async () => {
        await cluster.stop('fast');
        // Down long enough for every node to notice and for requests to meet the outage.
        await new Promise((r) => setTimeout(r, 2000));
        await cluster.start();
      },
      close: () => cluster.destroy(),
    };
  }
  const db = await createTestDatabase('ha');
  return { url: db.url, close: () => db.drop() };
}
