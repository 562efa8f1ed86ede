/**
 * KV v2 benchmark: write and read throughput, p50/p99 latency and the server process's CPU
 * time per request of Ferry over HTTP, next to a ceiling measured in the same run — a bare
 * Fastify route doing one better-sqlite3 insert / one select, on the same machine, with the
 * same durability settings (file-backed SQLite, WAL, synchronous=NORMAL). Each target runs in
 * its own process; the load generator (autocannon, 50 connections) runs in this one.
 *
 * CPU per request is each target's own CPU time (user + system, read from the target process
 * around the measured phase) divided by the requests it answered: unlike throughput, it does
 * not move with the load generator or other work sharing the machine's cores.
 *
 * Targets (issues 4 and 11), Ferry against the ceiling: throughput ≥ 40 % (write) and ≥ 50 %
 * (read), CPU per request ≤ 2× (write) and ≤ 1.4× (read), p99 ≤ 3×. With `--runs N` each run
 * starts fresh targets on a fresh directory, every run is printed, and the targets are judged
 * on the medians of the runs' ratios. Settings: BENCH_DURATION (seconds per phase, default
 * 10), BENCH_CONNECTIONS (default 50), BENCH_KEYS (secrets the phases spread over, default
 * 1000), BENCH_CPU_PROF (see `lib/child.ts`), BENCH_KV_RUNTIME (`compiled`, the default, or `tsx`).
 *
 * Both targets run compiled (tsc's JavaScript, as the container image and a packed release run
 * `dist/`), so the figures are the product's, not tsx's loader's: under tsx every named function
 * expression made at run time also gets its name defined by a helper call, which a Vault request
 * pipeline does many times more often than a bare route. `BENCH_KV_RUNTIME=tsx` runs both as a
 * source checkout's `bin/ferry.js` does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTarget, type Target, type TargetRuntime } from './lib/child.js';
import { load, type LoadResult, type LoadSpec } from './lib/load.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const KEYS = Number(process.env.BENCH_KEYS ?? 1000);
const WARMUP = Math.min(3, DURATION);
const RUNTIME = (process.env.BENCH_KV_RUNTIME ?? 'compiled') as TargetRuntime;
if (RUNTIME !== 'compiled' && RUNTIME !== 'tsx') throw new Error(`BENCH_KV_RUNTIME must be compiled or tsx, not ${String(RUNTIME)}`);

type Phase = 'write' | 'read';

/** Ferry against the ceiling, per phase. */
const TARGETS: Record<Phase, { throughput: number; cpu: number }> & { p99: number } = {
  write: { throughput: 0.4, cpu: 2 },
  read: { throughput: 0.5, cpu: 1.4 },
  p99: 3,
};

export const SECRET = { username: 'svc-bench', password: 'Zq8v!r2L#pW9xT4m@Kc7', host: 'db.internal', port: 5432 };
const POLICY = 'path "secret/data/bench/*" {\n  capabilities = ["create", "read", "update"]\n}\n';

/**
 * A non-root token limited to the benchmark's paths, if the server can mint one (ACL
 * policies and token creation); otherwise the root token, with a note saying so.
 */
export async function benchToken(url: string, rootToken: string): Promise<{ token: string; note: string }> {
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

/** One target's figures for one phase. */
export interface Measured extends LoadResult {
  /** The target process's CPU time per answered request, µs. */
  cpuPerRequest: number;
}

interface Row {
  phase: Phase;
  ceiling: Measured;
  ferry: Measured;
}

/** Ferry/ceiling ratios of one phase of one run, and whether any request failed. */
interface Ratios {
  throughput: number;
  cpu: number;
  p99: number;
  failed: boolean;
}

function ratiosOf(r: Row): Ratios {
  return {
    throughput: r.ferry.rps / r.ceiling.rps,
    cpu: r.ferry.cpuPerRequest / r.ceiling.cpuPerRequest,
    // autocannon reports whole milliseconds; a 0 ms ceiling counts as 1 ms.
    p99: r.ferry.p99 / Math.max(r.ceiling.p99, 1),
    failed: r.ferry.failures > 0 || r.ceiling.failures > 0,
  };
}

/** A warm-up, then the measured phase with the target's CPU time read around it. */
export async function measure(target: Target<unknown>, spec: LoadSpec): Promise<Measured> {
  await load({ ...spec, duration: WARMUP });
  const before = await target.cpuTime();
  const result = await load(spec);
  const after = await target.cpuTime();
  const cpu = after.user - before.user + (after.system - before.system);
  return { ...result, cpuPerRequest: result.total > 0 ? cpu / result.total : NaN };
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const pct = (ratio: number) => `${fmt(ratio * 100, 1)}%`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Whether the ratios meet the phase's targets, and the line saying so. */
function verdict(phase: Phase, r: Ratios, label: string): { pass: boolean; line: string } {
  const need = TARGETS[phase];
  const pass = r.throughput >= need.throughput && r.cpu <= need.cpu && r.p99 <= TARGETS.p99 && !r.failed;
  return {
    pass,
    line:
      `${phase.padEnd(7)}${label}throughput ${pct(r.throughput)} (target ≥ ${need.throughput * 100}%), ` +
      `CPU/request ${fmt(r.cpu, 2)}× (target ≤ ${need.cpu}×), p99 ${fmt(r.p99, 2)}× (target ≤ ${TARGETS.p99}×)` +
      `${r.failed ? ', requests failed' : ''} ${pass ? 'OK' : 'MISSED'}`,
  };
}

/** Prints one run's table; returns its per-phase ratios. */
function report(rows: Row[]): Record<Phase, Ratios> {
  const lines: string[] = [
    `${'phase'.padEnd(7)}${'target'.padEnd(10)}${'req/s'.padStart(10)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'requests'.padStart(11)}${'failed'.padStart(8)}${'CPU µs/req'.padStart(12)}`,
  ];
  for (const r of rows) {
    for (const [name, res] of [['ceiling', r.ceiling], ['ferry', r.ferry]] as const) {
      lines.push(
        `${r.phase.padEnd(7)}${name.padEnd(10)}${fmt(res.rps).padStart(10)}${fmt(res.p50).padStart(9)}${fmt(res.p99).padStart(9)}${fmt(res.total).padStart(11)}${fmt(res.failures).padStart(8)}${fmt(res.cpuPerRequest, 1).padStart(12)}`,
      );
    }
  }
  lines.push('');
  const out = {} as Record<Phase, Ratios>;
  for (const r of rows) {
    const ratios = ratiosOf(r);
    out[r.phase] = ratios;
    lines.push(verdict(r.phase, ratios, 'Ferry/ceiling ').line);
    if (ratios.failed) {
      lines.push(`       failures — ferry: ${JSON.stringify(r.ferry.statusCodes)}, ceiling: ${JSON.stringify(r.ceiling.statusCodes)}`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return out;
}

/** One run: fresh targets on a fresh directory, the write phase, then the read phase. */
async function runOnce(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-kv-'));
  const ceiling = await startTarget<{ url: string }>('sqlite-ceiling.ts', [dir], [], {}, RUNTIME);
  const ferry = await startTarget<{ url: string; rootToken: string }>('ferry-server.ts', [dir], [], {}, RUNTIME);
  try {
    const { token, note } = await benchToken(ferry.info.url, ferry.info.rootToken);
    process.stdout.write(`Ferry authenticates with: ${note}\n`);
    const body = JSON.stringify({ data: SECRET, options: {} });
    const common = { connections: CONNECTIONS, duration: DURATION };
    const key = (i: number) => `bench/key-${i % KEYS}`;
    const json = { 'content-type': 'application/json' };
    const rows: Row[] = [];
    // Phases interleave ceiling and Ferry so that drift on the machine hits both alike.
    for (const phase of ['write', 'read'] as const) {
      const method = phase === 'write' ? 'PUT' : 'GET';
      const ceilingResult = await measure(ceiling, {
        ...common,
        url: ceiling.info.url,
        method,
        pathFor: (i) => `/ceiling/${key(i)}`,
        headers: json,
        ...(phase === 'write' ? { body } : {}),
      });
      const ferryResult = await measure(ferry, {
        ...common,
        url: ferry.info.url,
        method,
        pathFor: (i) => `/v1/secret/data/${key(i)}`,
        headers: { ...json, 'x-vault-token': token },
        ...(phase === 'write' ? { body } : {}),
      });
      rows.push({ phase, ceiling: ceilingResult, ferry: ferryResult });
    }
    return rows;
  } finally {
    await ferry.stop();
    await ceiling.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Prints every run's ratios side by side and their medians; returns whether the medians meet the targets. */
function summarize(runs: Array<Record<Phase, Ratios>>, rows: Row[][]): boolean {
  const lines = ['', `Summary of ${runs.length} runs (Ferry/ceiling; CPU in µs per request, ceiling → Ferry):`];
  let ok = true;
  for (const phase of ['write', 'read'] as const) {
    runs.forEach((r, i) => {
      const row = rows[i]!.find((x) => x.phase === phase)!;
      lines.push(
        `${phase.padEnd(7)}run ${i + 1}: throughput ${pct(r[phase].throughput).padStart(6)}, ` +
          `CPU ${fmt(row.ceiling.cpuPerRequest, 1)} → ${fmt(row.ferry.cpuPerRequest, 1)} µs (${fmt(r[phase].cpu, 2)}×), ` +
          `p99 ${fmt(row.ceiling.p99)} → ${fmt(row.ferry.p99)} ms (${fmt(r[phase].p99, 2)}×)${r[phase].failed ? ', requests failed' : ''}`,
      );
    });
    const medians: Ratios = {
      throughput: median(runs.map((r) => r[phase].throughput)),
      cpu: median(runs.map((r) => r[phase].cpu)),
      p99: median(runs.map((r) => r[phase].p99)),
      failed: runs.some((r) => r[phase].failed),
    };
    const v = verdict(phase, medians, 'median ');
    ok &&= v.pass;
    lines.push(v.line);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return ok;
}

/** Runs the KV benchmark `runs` times; resolves false when a target was missed (on the medians). */
export async function run(opts: { runs?: number } = {}): Promise<boolean> {
  const count = opts.runs ?? 1;
  process.stdout.write(
    `KV v2 benchmark — ${CONNECTIONS} connections, ${DURATION} s per phase (after ${WARMUP} s warm-up), ${KEYS} keys, ` +
      `file-backed SQLite (WAL, synchronous=NORMAL), both targets ${RUNTIME === 'compiled' ? 'compiled by tsc' : 'under tsx'}, ${count} run${count === 1 ? '' : 's'}\n`,
  );
  const ratios: Array<Record<Phase, Ratios>> = [];
  const rows: Row[][] = [];
  for (let i = 1; i <= count; i++) {
    const [one, five, fifteen] = loadavg().map((n) => n.toFixed(2));
    const at = new Date().toISOString().slice(0, 16).replace('T', ' ');
    process.stdout.write(`\n-- run ${i} of ${count} (${at} UTC, load average before it: ${one}, ${five}, ${fifteen}) --\n`);
    const runRows = await runOnce();
    rows.push(runRows);
    ratios.push(report(runRows));
  }
  if (count === 1) return (['write', 'read'] as const).every((phase) => verdict(phase, ratios[0]![phase], '').pass);
  return summarize(ratios, rows);
}
