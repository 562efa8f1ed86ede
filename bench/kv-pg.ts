/**
 * KV v2 on PostgreSQL beside SQLite (issue 19): write and read throughput, p50/p99 latency and
 * CPU per request of the same Ferry dev server over HTTP, once on file-backed SQLite (WAL,
 * synchronous=NORMAL) and once on PostgreSQL, with the load generator (autocannon) in this
 * process and each server in its own.
 *
 * PostgreSQL: `BENCH_PG_URL` (a server whose role may CREATE DATABASE; a fresh database is made
 * per run and dropped after), else a throwaway cluster started here from Debian's server
 * binaries with PostgreSQL's default durability (fsync and synchronous_commit on: a write is
 * acknowledged once its WAL is flushed), on the same machine — so the two servers and the load
 * generator share its cores. Settings as the KV benchmark: BENCH_DURATION, BENCH_CONNECTIONS,
 * BENCH_KEYS. No targets are judged: the figures are reported (a failed request fails the run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PG_LOCAL_CLUSTERS, PG_SKIP_REASON, startPostgresCluster, type LocalPostgres } from '../test/support/pg-cluster.js';
import { startTarget } from './lib/child.js';
import { benchToken, fmt, measure, SECRET, type Measured } from './kv.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const KEYS = Number(process.env.BENCH_KEYS ?? 1000);

/** A fresh database for one run: on BENCH_PG_URL's server, or a durable throwaway cluster's own. */
async function freshDatabase(): Promise<{ url: string; where: string; dispose(): Promise<void> }> {
  const admin = process.env.BENCH_PG_URL;
  if (admin) {
    const name = `ferry_bench_${Date.now()}`;
    const run = async (sql: string) => {
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    };
    await run(`CREATE DATABASE ${name}`);
    const url = new URL(admin);
    url.pathname = `/${name}`;
    return { url: url.toString(), where: `BENCH_PG_URL's server, database ${name}`, dispose: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
  }
  if (!PG_LOCAL_CLUSTERS) throw new Error(`no PostgreSQL to benchmark: set BENCH_PG_URL, or ${PG_SKIP_REASON}`);
  const cluster: LocalPostgres = await startPostgresCluster({ durable: true });
  return { url: cluster.url(), where: `a throwaway local PostgreSQL cluster (port ${cluster.port}, fsync on)`, dispose: () => cluster.destroy() };
}

type Store = 'sqlite' | 'postgresql';

/** One store's write then read phase, on a fresh server. */
async function phases(store: Store, dir: string, pgUrl: string): Promise<Record<'write' | 'read', Measured>> {
  const ferry = await startTarget<{ url: string; rootToken: string }>('ferry-server.ts', store === 'sqlite' ? [dir] : [dir, pgUrl]);
  try {
    const { token } = await benchToken(ferry.info.url, ferry.info.rootToken);
    const body = JSON.stringify({ data: SECRET, options: {} });
    const spec = {
      connections: CONNECTIONS,
      duration: DURATION,
      url: ferry.info.url,
      pathFor: (i: number) => `/v1/secret/data/bench/key-${i % KEYS}`,
      headers: { 'content-type': 'application/json', 'x-vault-token': token },
    };
    const write = await measure(ferry, { ...spec, method: 'PUT', body });
    const read = await measure(ferry, { ...spec, method: 'GET' });
    return { write, read };
  } finally {
    await ferry.stop();
  }
}

export async function run(): Promise<boolean> {
  if (!process.env.BENCH_PG_URL && !PG_LOCAL_CLUSTERS) {
    process.stdout.write(`skipped: set BENCH_PG_URL or install PostgreSQL's server binaries. ${PG_SKIP_REASON}\n`);
    return true;
  }
  const [one, five, fifteen] = loadavg().map((n) => n.toFixed(2));
  const at = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const db = await freshDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-kv-pg-'));
  process.stdout.write(
    `KV v2 on PostgreSQL beside SQLite — ${CONNECTIONS} connections, ${DURATION} s per phase, ${KEYS} keys, non-root token; ` +
      `${at} UTC, load average before it: ${one}, ${five}, ${fifteen}\nPostgreSQL: ${db.where}\n`,
  );
  try {
    const results = {} as Record<Store, Record<'write' | 'read', Measured>>;
    // SQLite first, then PostgreSQL: each on its own fresh server.
    for (const store of ['sqlite', 'postgresql'] as const) results[store] = await phases(store, dir, db.url);
    const lines = [`${'phase'.padEnd(7)}${'store'.padEnd(12)}${'req/s'.padStart(10)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'requests'.padStart(11)}${'failed'.padStart(8)}${'CPU µs/req'.padStart(12)}`];
    let failed = false;
    for (const phase of ['write', 'read'] as const) {
      for (const store of ['sqlite', 'postgresql'] as const) {
        const r = results[store][phase];
        failed ||= r.failures > 0;
        lines.push(
          `${phase.padEnd(7)}${store.padEnd(12)}${fmt(r.rps).padStart(10)}${fmt(r.p50).padStart(9)}${fmt(r.p99).padStart(9)}${fmt(r.total).padStart(11)}${fmt(r.failures).padStart(8)}${fmt(r.cpuPerRequest, 1).padStart(12)}`,
        );
      }
      const ratio = results.postgresql[phase].rps / results.sqlite[phase].rps;
      lines.push(`${''.padEnd(7)}PostgreSQL/SQLite throughput ${fmt(ratio * 100, 1)}%`);
    }
    if (failed) lines.push(`failures — sqlite: ${JSON.stringify([results.sqlite.write.statusCodes, results.sqlite.read.statusCodes])}, postgresql: ${JSON.stringify([results.postgresql.write.statusCodes, results.postgresql.read.statusCodes])}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return !failed;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await db.dispose();
  }
}
