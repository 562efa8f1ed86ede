/**
 * KV v2 benchmark: write and read throughput and p50/p99 latency of Ferry over HTTP, next
 * to a ceiling measured in the same run — a bare Fastify route doing one better-sqlite3
 * insert / one select, on the same machine, with the same durability settings (file-backed
 * SQLite, WAL, synchronous=NORMAL). Each target runs in its own process; the load generator
 * (autocannon, 50 connections) runs in this one.
 *
 * Targets (issue 4): write ≥ 40% of the insert ceiling, read ≥ 50% of the select ceiling,
 * p99 ≤ 3× the ceiling's p99. Settings: BENCH_DURATION (seconds per phase, default 10),
 * BENCH_CONNECTIONS (default 50), BENCH_KEYS (secrets the phases spread over, default 1000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTarget, type Target } from './lib/child.js';
import { load, type LoadResult, type LoadSpec } from './lib/load.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const KEYS = Number(process.env.BENCH_KEYS ?? 1000);
const WARMUP = Math.min(3, DURATION);

const TARGETS = { write: 0.4, read: 0.5, p99: 3 };

const SECRET = { username: 'svc-bench', password: 'Zq8v!r2L#pW9xT4m@Kc7', host: 'db.internal', port: 5432 };
const POLICY = 'path "secret/data/bench/*" {\n  capabilities = ["create", "read", "update"]\n}\n';

/**
 * A non-root token limited to the benchmark's paths, if the server can mint one (ACL
 * policies and token creation); otherwise the root token, with a note saying so.
 */
async function benchToken(url: string, rootToken: string): Promise<{ token: string; note: string }> {
  const root = (why: string) => ({ token: rootToken, note: `root token (${why}); re-run once ACL policies land` });
  const headers = { 'x-vault-token': rootToken, 'content-type': 'application/json' };
  const policy = await fetch(`${url}/v1/sys/policies/acl/bench-kv`, { method: 'PUT', headers, body: JSON.stringify({ policy: POLICY }) });
  if (!policy.ok) return root(`PUT sys/policies/acl answered ${policy.status}`);
  const created = await fetch(`${url}/v1/auth/token/create`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ policies: ['bench-kv'], ttl: '2h', no_default_policy: true }),
  });
  if (!created.ok) return root(`POST auth/token/create answered ${created.status}`);
  const token = ((await created.json()) as { auth?: { client_token?: string } }).auth?.client_token;
  if (!token) return root('auth/token/create returned no client_token');
  const probe = await fetch(`${url}/v1/secret/data/bench/probe`, {
    method: 'PUT',
    headers: { 'x-vault-token': token },
    body: JSON.stringify({ data: SECRET }),
  });
  if (!probe.ok) return root(`the policy-limited token could not write (${probe.status})`);
  return { token, note: 'non-root token with policy "bench-kv" (create/read/update on secret/data/bench/*)' };
}

interface Row {
  phase: 'write' | 'read';
  ceiling: Measured;
  ferry: Measured;
}

/** A phase's load figures, and the CPU time the target spent per request during it (µs; undefined without /proc). */
type Measured = LoadResult & { cpuPerRequestUs?: number };

async function measure(spec: LoadSpec, target: Target<unknown>): Promise<Measured> {
  await load({ ...spec, duration: WARMUP });
  const cpuBefore = target.cpuSeconds();
  const result = await load(spec);
  const cpuAfter = target.cpuSeconds();
  const cpuPerRequestUs = cpuBefore === undefined || cpuAfter === undefined || result.total === 0 ? undefined : ((cpuAfter - cpuBefore) * 1e6) / result.total;
  return { ...result, cpuPerRequestUs };
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function report(rows: Row[], tokenNote: string): boolean {
  const lines: string[] = [];
  let ok = true;
  lines.push(
    `KV v2 benchmark — ${CONNECTIONS} connections, ${DURATION} s per phase (after ${WARMUP} s warm-up), ${KEYS} keys, file-backed SQLite (WAL, synchronous=NORMAL)`,
    `Ferry authenticates with: ${tokenNote}`,
    '',
    `${'phase'.padEnd(7)}${'target'.padEnd(10)}${'req/s'.padStart(10)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'requests'.padStart(11)}${'failed'.padStart(8)}${'CPU µs/req'.padStart(12)}`,
  );
  for (const r of rows) {
    for (const [name, res] of [['ceiling', r.ceiling], ['ferry', r.ferry]] as const) {
      const cpu = res.cpuPerRequestUs === undefined ? 'n/a' : fmt(res.cpuPerRequestUs, 1);
      lines.push(
        `${r.phase.padEnd(7)}${name.padEnd(10)}${fmt(res.rps).padStart(10)}${fmt(res.p50).padStart(9)}${fmt(res.p99).padStart(9)}${fmt(res.total).padStart(11)}${fmt(res.failures).padStart(8)}${cpu.padStart(12)}`,
      );
    }
  }
  lines.push('');
  for (const r of rows) {
    const ratio = r.ferry.rps / r.ceiling.rps;
    const p99 = r.ferry.p99 / Math.max(r.ceiling.p99, 1);
    const need = TARGETS[r.phase];
    const pass = ratio >= need && p99 <= TARGETS.p99 && r.ferry.failures === 0 && r.ceiling.failures === 0;
    ok &&= pass;
    lines.push(
      `${r.phase.padEnd(7)}Ferry/ceiling throughput ${fmt(ratio * 100, 1)}% (target ≥ ${need * 100}%), p99 ${fmt(p99, 2)}× (target ≤ ${TARGETS.p99}×) ${pass ? 'OK' : 'MISSED'}`,
    );
    if (r.ferry.failures > 0 || r.ceiling.failures > 0) {
      lines.push(`       failures — ferry: ${JSON.stringify(r.ferry.statusCodes)}, ceiling: ${JSON.stringify(r.ceiling.statusCodes)}`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return ok;
}

/** Runs the KV benchmark; resolves false when a target was missed. */
export async function run(): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-kv-'));
  const ceiling = await startTarget<{ url: string }>('sqlite-ceiling.ts', [dir]);
  const ferry = await startTarget<{ url: string; rootToken: string }>('ferry-server.ts', [dir]);
  try {
    const { token, note } = await benchToken(ferry.info.url, ferry.info.rootToken);
    const body = JSON.stringify({ data: SECRET, options: {} });
    const common = { connections: CONNECTIONS, duration: DURATION };
    const key = (i: number) => `bench/key-${i % KEYS}`;
    const json = { 'content-type': 'application/json' };
    const rows: Row[] = [];
    // Phases interleave ceiling and Ferry so that drift on the machine hits both alike.
    for (const phase of ['write', 'read'] as const) {
      const method = phase === 'write' ? 'PUT' : 'GET';
      const ceilingResult = await measure(
        {
          ...common,
          url: ceiling.info.url,
          method,
          pathFor: (i) => `/ceiling/${key(i)}`,
          headers: json,
          ...(phase === 'write' ? { body } : {}),
        },
        ceiling,
      );
      const ferryResult = await measure(
        {
          ...common,
          url: ferry.info.url,
          method,
          pathFor: (i) => `/v1/secret/data/${key(i)}`,
          headers: { ...json, 'x-vault-token': token },
          ...(phase === 'write' ? { body } : {}),
        },
        ferry,
      );
      rows.push({ phase, ceiling: ceilingResult, ferry: ferryResult });
    }
    return report(rows, note);
  } finally {
    await ferry.stop();
    await ceiling.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
