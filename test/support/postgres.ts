/**
 * PostgreSQL for tests: a database per test file, on a server the tests may use.
 *
 * Where the server comes from, in order:
 *   1. `FERRY_TEST_PG_URL` (or `VAULT_PG_CONNECTION_URL`): a server someone runs, reached with a
 *      role that may `CREATE DATABASE`; each test file gets its own database there.
 *   2. Otherwise a throwaway cluster made with Debian's server binaries (`initdb` and `pg_ctl`
 *      from /usr/lib/postgresql/<version>/bin, or `FERRY_PG_BIN`), in a temporary directory, on
 *      a free loopback port. One cluster serves the whole test run: the first file that needs it
 *      starts it (the others wait for it), and the run's global setup
 *      (`test/support/postgres-global.ts`) stops it at the end. As root the server runs as the
 *      `postgres` user, since PostgreSQL refuses to run as root.
 *   3. Neither: the PostgreSQL suites are skipped, and say how to run them (`PG_SKIP_REASON`).
 *
 * A test that must stop and start the server itself (a restart under load) starts a cluster of
 * its own with `startPostgresCluster`, so that it never disturbs the files sharing the run's one.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject } from 'vitest';
import { PG_AVAILABLE, PG_ENV_URL, PG_SKIP_REASON, startPostgresCluster, stopClusterSync } from './pg-cluster.js';

export {
  PG_AVAILABLE,
  PG_ENV_URL,
  PG_LOCAL_CLUSTERS,
  PG_SKIP_REASON,
  startPostgresCluster,
  startTcpProxy,
  type LocalPostgres,
  type TcpProxy,
} from './pg-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the run's shared cluster records itself (`postgres-global.ts`); empty when there is none to share. */
    ferryPgRunDir: string;
  }
}

let warned = false;
/**
 * `describe`, skipped with `PG_SKIP_REASON` when there is no PostgreSQL; the reason is printed
 * once per file and is in the skipped suite's name, so a run's summary says what was skipped and why.
 */
export function describePostgres(name: string, fn: () => void): void {
  if (!PG_AVAILABLE && !warned) {
    warned = true;
    console.warn(PG_SKIP_REASON);
  }
  describe.skipIf(!PG_AVAILABLE)(PG_AVAILABLE ? name : `${name} (skipped: no PostgreSQL; see test/support/postgres.ts)`, fn);
}

/** What the first file of a run records in the run directory once the shared cluster accepts connections. */
interface SharedClusterRecord {
  url: string;
  dataDir: string;
  error?: string;
}

let sharedAdminUrl: Promise<string> | undefined;

/**
 * The URL of a database on the run's server through which test databases are created: the
 * environment's server, or the run's shared cluster (started by the first file that asks,
 * under a lock directory; the others wait for its record).
 */
export function postgresAdminUrl(): Promise<string> {
  sharedAdminUrl ??= (async () => {
    if (PG_ENV_URL) return PG_ENV_URL;
    let runDir = '';
    try {
      runDir = inject('ferryPgRunDir');
    } catch {
      // Not under a vitest run with the global setup: a cluster for this process alone.
    }
    if (!runDir) {
      const own = await startPostgresCluster();
      process.once('exit', () => stopClusterSync(join(own.dataDir, '..')));
      return own.url();
    }
    const record = join(runDir, 'cluster.json');
    let leader = false;
    try {
      mkdirSync(join(runDir, 'lock'));
      leader = true;
    } catch {
      // Another file is starting it.
    }
    if (leader) {
      let rec: SharedClusterRecord;
      try {
        // Owned by the vitest process (its pid is in the run directory), which outlives this file.
        const ownerPid = Number(readFileSync(join(runDir, 'owner.pid'), 'utf8'));
        const cluster = await startPostgresCluster({ ownerPid });
        rec = { url: cluster.url(), dataDir: cluster.dataDir };
      } catch (err) {
        rec = { url: '', dataDir: '', error: (err as Error).message };
      }
      writeFileSync(record + '.tmp', JSON.stringify(rec));
      renameSync(record + '.tmp', record);
      if (rec.error) throw new Error(rec.error);
      return rec.url;
    }
    const deadline = Date.now() + 120_000;
    while (!existsSync(record)) {
      if (Date.now() > deadline) throw new Error(`the shared PostgreSQL test cluster did not start within 120 s (${runDir})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const rec = JSON.parse(readFileSync(record, 'utf8')) as SharedClusterRecord;
    if (rec.error) throw new Error(`the shared PostgreSQL test cluster did not start: ${rec.error}`);
    return rec.url;
  })();
  return sharedAdminUrl;
}

/** `url` with its database replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Runs one statement on `url` with a short-lived client. */
export async function pgExec(url: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/** Creates a fresh database (from `template1`) on the run's server; `drop` removes it, disconnecting whoever is still on it. */
export async function createTestDatabase(label = 'test'): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const admin = await postgresAdminUrl();
  const name = `ferry_${label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  await pgExec(admin, `CREATE DATABASE ${name} TEMPLATE template1`);
  return {
    url: withDatabase(admin, name),
    name,
    drop: async () => {
      await pgExec(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/**
 * A database for the calling test file (created in `beforeAll`, dropped in `afterAll`), named
 * after the file. `url()` is valid inside tests and hooks.
 */
export function usePostgresDatabase(label?: string): { url(): string } {
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(label ?? basename(expect.getState().testPath ?? 'file').replace(/\..*$/, ''));
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
    db = undefined;
  });
  return {
    url: () => {
      if (!db) throw new Error('the test database exists only while the file runs (it is made in beforeAll)');
      return db.url;
    },
  };
}

/** Empties a database: every table, sequence and function of its `public` schema goes (migrations run again on the next open). */
export async function resetDatabase(url: string): Promise<void> {
  await pgExec(url, 'DROP SCHEMA public CASCADE; CREATE SCHEMA public');
}

