/**
 * Secrets sync at scale (issue 14), against the in-repo AWS emulator with AWS's real quotas
 * (50 writes/s per quota class) and Ferry's write budget configured at 48/s
 * (`sys/sync/config` `write_budget_per_second`). Ferry runs in its own process (the bench's
 * file-backed dev server, worker running); the emulator, the load and the measurements run here,
 * through a pool of kept-alive connections (`lib/vault-client.ts`).
 *
 *  setup: 100,000 KV secrets, 10,000 of them associated with one destination, seeded by a
 *     short-lived process on the same file (`lib/seed.ts`: KV writes through its app, associations
 *     through its sync service, its worker stopped); then Ferry — the measured process — starts on
 *     that file, is unsealed, and runs the initial sync, waited for until every associated secret
 *     is in AWS. So Ferry's memory is that of a server holding these records, not the seeding's
 *     garbage (`BENCH_SCALE_SEED_IN=ferry` seeds in Ferry's process instead, as before). By
 *     default the initial sync is seeded fast — the emulator's CreateSecret quota and Ferry's
 *     budget are raised for it and put back to 50/s and 48/s before anything is measured —
 *     because 10,000 creates at 48/s take 3.5 minutes; `BENCH_SCALE_SEED=real` waits them out.
 *     Its time is reported, not judged.
 *  H (hot): 200 KV writes/s for 60 s, each to one of 200 hot secrets among the 10,000 — targets:
 *     0 ThrottlingException answers; AWS's successful writes per second, over the seconds at the
 *     start and end of which some acknowledged value was not yet in AWS, ≥ 90 % of the budget;
 *     every hot secret at its latest KV value in AWS within 15 s after the last write was
 *     acknowledged.
 *  burst: 2,000 writes over 1,000 other associated secrets (each written twice, 1,000 writes
 *     apart), sent at once through the pool — target: converged within 1.1 × (1,000 ÷ budget) s
 *     of the first write, 22.9 s at 48/s.
 *  memory: the Ferry process's VmRSS (sampled every 500 ms from /proc/<pid>/status) after setup
 *     and while syncing, and its VmHWM (the peak, setup included) at the end — target < 256 MB.
 *     Ferry runs compiled (tsc's JavaScript, as the container image runs `dist/`) with
 *     `MALLOC_ARENA_MAX=2`, as the Dockerfile ships it; `BENCH_SCALE_RUNTIME=tsx` runs its
 *     TypeScript through tsx instead (about 45 MB more resident memory: tsx's loader thread).
 *
 * Settings: BENCH_SCALE_KV (KV secrets, default 100000), BENCH_SCALE_ASSOCIATED (default 10000),
 * BENCH_SCALE_SECONDS (phase H, default 60), BENCH_SCALE_BUDGET (default 48), BENCH_SCALE_SEED
 * (`fast` or `real`), BENCH_SCALE_CONNECTIONS (client pool, default 32), BENCH_SCALE_SEED_IN
 * (`process` or `ferry`), BENCH_SCALE_MALLOC_ARENA_MAX (default 2; `default` for glibc's),
 * BENCH_SCALE_RUNTIME (`compiled`, the default, or `tsx`).
 */
import { appendFileSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsEmulator, type RequestLogEntry } from '../test/support/aws-emulator/index.js';
import { startTarget, type Target, type TargetRuntime } from './lib/child.js';
import { MEMORY_DONE, MEMORY_REQUEST, SEED_DONE, SEED_REQUEST, seededValue, type MemoryDone, type SeedDone, type SeedRequest } from './lib/seed.js';
import { vaultClient, type VaultClient } from './lib/vault-client.js';
import { pool } from './lib/pool.js';
import { currentValue } from './lib/emulator-reads.js';

const KV_SECRETS = Number(process.env.BENCH_SCALE_KV ?? 100_000);
const ASSOCIATED = Number(process.env.BENCH_SCALE_ASSOCIATED ?? 10_000);
const HOT_SECONDS = Number(process.env.BENCH_SCALE_SECONDS ?? 60);
const BUDGET = Number(process.env.BENCH_SCALE_BUDGET ?? 48);
const SEED = process.env.BENCH_SCALE_SEED ?? 'fast';
const CONNECTIONS = Number(process.env.BENCH_SCALE_CONNECTIONS ?? 32);
/** `process` (default): seeded by a short-lived process on the same file, before Ferry starts on it; `ferry`: in Ferry's own process. */
const SEED_IN = process.env.BENCH_SCALE_SEED_IN ?? 'process';
/** glibc's malloc arenas in the target (`MALLOC_ARENA_MAX`, as the Dockerfile sets it); `default` leaves glibc's. */
const ARENAS = process.env.BENCH_SCALE_MALLOC_ARENA_MAX ?? '2';
const TARGET_ENV: Record<string, string> = ARENAS === 'default' ? {} : { MALLOC_ARENA_MAX: ARENAS };
/** How Ferry (and the seeding process) run: `compiled` (the product as shipped) or `tsx` (see `lib/child.ts`). */
/** Extra Node/V8 flags for Ferry's process (space-separated), for trying V8 settings; none by default. */
const EXTRA_FLAGS = (process.env.BENCH_SCALE_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const RUNTIME = (process.env.BENCH_SCALE_RUNTIME ?? 'compiled') as TargetRuntime;
if (RUNTIME !== 'compiled' && RUNTIME !== 'tsx') throw new Error(`BENCH_SCALE_RUNTIME must be compiled or tsx, not ${String(RUNTIME)}`);
const HOT = 200;
const HOT_RATE = 200;
const BURST_SECRETS = 1000;
const BURST_WRITES = 2000;
const MEMORY_LIMIT_MB = 256;
const REGION = 'us-east-1';
const WRITE_OPERATIONS = ['CreateSecret', 'UpdateSecret', 'PutSecretValue'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => (ms / 1000).toFixed(1);
const load = () => loadavg().map((l) => l.toFixed(2)).join(' / ');
const say = (line: string) => process.stdout.write(`${line}\n`);

async function waitUntil(check: () => boolean, timeoutMs: number, stepMs = 50): Promise<number | undefined> {
  const start = Date.now();
  for (;;) {
    if (check()) return Date.now();
    if (Date.now() - start > timeoutMs) return undefined;
    await sleep(stepMs);
  }
}

/** Kilobytes of VmRSS and VmHWM of a process. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}
const mb = (kb: number) => kb / 1024;

/** Kilobytes of a process's resident memory that is anonymous (heaps, malloc) and file-backed (code, mapped files), from smaps_rollup. */
function residentKinds(pid: number): { anon: number; file: number } {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN);
  return { anon: kb('Anonymous'), file: kb('Rss') - kb('Anonymous') };
}

/** Samples a process's memory every 500 ms, keeping the largest VmRSS of each named phase. */
class MemoryWatch {
  readonly maxRss = new Map<string, number>();
  private phase = 'start';
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 500);
  }
  enter(phase: string): void {
    this.phase = phase;
    this.sample();
    // Beside the target's own lines (`targets/ferry-server.ts`), when it traces its memory.
    if (process.env.BENCH_MEMORY_TRACE) appendFileSync(process.env.BENCH_MEMORY_TRACE, `${JSON.stringify({ phase, at: Date.now(), pid: this.pid })}\n`);
  }
  sample(): { rss: number; hwm: number } {
    const m = memoryOf(this.pid);
    this.maxRss.set(this.phase, Math.max(this.maxRss.get(this.phase) ?? 0, m.rss));
    return m;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/** The sum of a counter's series in Prometheus text. */
function counterSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/**
 * AWS's write calls in each second from `start`, as the emulator received them, throttled ones
 * in brackets: how even the pacing is (a mean hides bunching and gaps).
 */
function writesPerSecond(log: RequestLogEntry[], start: number): string {
  const counts: number[] = [];
  const throttled: number[] = [];
  for (const e of log) {
    if (!WRITE_OPERATIONS.includes(e.operation) || e.time < start) continue;
    const i = Math.floor((e.time - start) / 1000);
    for (let j = counts.length; j <= i; j++) [counts[j], throttled[j]] = [0, 0];
    counts[i]!++;
    if (e.errorCode === 'ThrottlingException') throttled[i]!++;
  }
  return counts.map((n, i) => (throttled[i] ? `${n}(${throttled[i]})` : `${n}`)).join(' ');
}

/** Ferry's CPU time from now to the call of the returned function, as seconds and a share of one core. */
async function cpuSince(target: Target<unknown>): Promise<() => Promise<string>> {
  const [before, at] = [await target.cpuTime(), Date.now()];
  return async () => {
    const after = await target.cpuTime();
    const used = (after.user + after.system - before.user - before.system) / 1e6;
    return `${used.toFixed(1)} s in ${seconds(Date.now() - at)} s (${((used / ((Date.now() - at) / 1000)) * 100).toFixed(0)} % of a core)`;
  };
}

interface Ferry {
  url: string;
  rootToken: string;
  /** The dev server's unseal key (a seeding process's, to unseal Ferry reopened on its file). */
  unsealKey?: string;
}

export async function run(): Promise<boolean> {
  say(
    `started ${new Date().toISOString()}, load average ${load()}; Ferry in its own process (${RUNTIME}), MALLOC_ARENA_MAX ${ARENAS}, ` +
      `seeded ${SEED_IN === 'ferry' ? "in Ferry's process" : 'by a separate process'}, ${CONNECTIONS} client connections`,
  );
  const emu = await startAwsEmulator();
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-sync-scale-'));
  const targets: Array<Target<Ferry>> = [];
  const clients: VaultClient[] = [];
  const start = async (mode: 'seed' | 'reopen' | undefined) => {
    // --expose-gc: only for the memory breakdown at the end (a full GC on request, after VmRSS/VmHWM are read).
    const t = await startTarget<Ferry>('ferry-server.ts', mode ? [dir, `--${mode}`] : [dir], ['--expose-gc', ...EXTRA_FLAGS], TARGET_ENV, RUNTIME);
    targets.push(t);
    const client = vaultClient(t.info.url, t.info.rootToken, CONNECTIONS);
    clients.push(client);
    return { t, client };
  };
  // The seeding process: Ferry itself (SEED_IN=ferry), or a short-lived one on the same file.
  const seeder = await start(SEED_IN === 'ferry' ? undefined : 'seed');
  let target = seeder.t;
  let ferry: VaultClient = seeder.client;
  let call = ferry.call;
  let memory = new MemoryWatch(target.pid);
  let idle = memory.sample();
  let met = true;
  try {
    await call('PUT', 'sys/sync/destinations/aws-sm/bench', {
      access_key_id: 'AKIABENCHMARK0000001',
      secret_access_key: 'bench-secret-key',
      region: REGION,
      endpoint_url: emu.endpoint,
    });
    if (SEED === 'fast') {
      emu.setQuota('CreateSecret', 100_000);
      await call('PUT', 'sys/sync/config', { write_budget_per_second: 10_000 });
    } else {
      await call('PUT', 'sys/sync/config', { write_budget_per_second: BUDGET });
    }
    const accessor: string = (await call('GET', 'sys/mounts/secret')).data.accessor;
    const awsName = (n: string) => `vault/${accessor}/${n}`;

    // ---- setup: 100,000 KV secrets, every tenth associated ------------------------------------
    memory.enter('setup');
    const every = Math.max(1, Math.floor(KV_SECRETS / ASSOCIATED));
    const t0 = Date.now();
    const seed = await target.ask<SeedDone>(
      { type: SEED_REQUEST, mount: 'secret', prefix: 'scale/s', kv: KV_SECRETS, every, associate: ASSOCIATED, destination: { type: 'aws-sm', name: 'bench' } } satisfies SeedRequest,
      SEED_DONE,
    );
    if (seed.error) throw new Error(`seeding failed: ${seed.error}`);
    const associated = seed.associated;
    let seededIn = `in Ferry's process in ${seconds(Date.now() - t0)} s`;
    if (SEED_IN !== 'ferry') {
      // The seeder goes; Ferry starts on the file it left, is unsealed, and syncs what it finds.
      const seederPeak = memory.sample().hwm;
      memory.stop();
      await seeder.t.stop();
      ({ t: target, client: ferry } = await start('reopen'));
      call = ferry.call;
      memory = new MemoryWatch(target.pid);
      idle = memory.sample();
      await call('PUT', 'sys/unseal', { key: seeder.t.info.unsealKey });
      memory.enter('setup');
      seededIn = `by a seeding process in ${seconds(Date.now() - t0)} s (its VmHWM ${mb(seederPeak).toFixed(0)} MB), then Ferry started on the file and unsealed`;
    }
    const writtenAt = Date.now();
    const expectedInitial = new Map(associated.map((n) => [awsName(n), JSON.stringify(seededValue(Number(n.slice('scale/s'.length))))]));
    const seeded = await waitUntil(() => [...expectedInitial].every(([n, v]) => currentValue(emu, n) === v), SEED === 'fast' ? 600_000 : 900_000, 500);
    const afterSetup = memory.sample();
    say(
      `setup: ${KV_SECRETS} KV secrets written and ${associated.length} associated ${seededIn}; initial sync ` +
        `(${SEED === 'fast' ? 'seeded with the CreateSecret quota and the budget raised' : `at ${BUDGET}/s`}) ` +
        `${seeded === undefined ? 'NOT complete' : `complete ${seconds(seeded - writtenAt)} s later`}; load average ${load()}`,
    );
    if (seeded === undefined) return false;
    // What one associations/set costs over HTTP with this many associations: its answer lists them all.
    const setStart = Date.now();
    const setAnswer = await call('PUT', 'sys/sync/destinations/aws-sm/bench/associations/set', { mount: 'secret', secret_name: associated.at(-1) });
    say(
      `  one associations/set over HTTP (a re-set): ${Date.now() - setStart} ms, answering ${Object.keys(setAnswer.data.associated_secrets).length} ` +
        `entries (${(JSON.stringify(setAnswer).length / 1e6).toFixed(1)} MB)`,
    );

    // AWS's real quota and the configured budget from here on; both buckets start full.
    emu.setQuota('CreateSecret', 50);
    await call('PUT', 'sys/sync/config', { write_budget_per_second: BUDGET });
    await sleep(2000);
    const budget: number = (await call('GET', 'sys/sync/config')).data.write_budget_per_second;
    emu.clearRequestLog();

    // ---- H: 200 writes/s to 200 hot secrets for 60 s ----------------------------------------
    memory.enter('hot');
    const cpuH = await cpuSince(target);
    const hot = associated.slice(0, HOT);
    const lastAcked = new Map<string, string>();
    let failedWrites = 0;
    const samples: Array<{ at: number; pending: boolean }> = [];
    const pendingNow = () => [...lastAcked].some(([name, value]) => currentValue(emu, awsName(name)) !== value);
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push({ at: Date.now(), pending: pendingNow() });
        await sleep(1000 - (Date.now() % 1000));
      }
    })();
    const startH = Date.now();
    const total = HOT_RATE * HOT_SECONDS;
    const writes: Array<Promise<void>> = [];
    for (let k = 0; k < total; k++) {
      const due = startH + (k * 1000) / HOT_RATE;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      const name = hot[k % HOT]!;
      const data = { hot: k };
      writes.push(
        call('PUT', `secret/data/${name}`, { data }).then(
          () => void lastAcked.set(name, JSON.stringify(data)),
          () => void failedWrites++,
        ),
      );
    }
    await Promise.all(writes);
    const loadEnd = Date.now();
    const sendSeconds = (loadEnd - startH) / 1000;
    // KV's latest version of each hot secret, as Ferry reads it (the timer runs meanwhile).
    const latest = new Map<string, string>();
    await pool(hot, CONNECTIONS, async (name) => {
      latest.set(awsName(name), JSON.stringify((await call('GET', `secret/data/${name}`)).data.data));
    });
    const convergedH = await waitUntil(() => [...latest].every(([n, v]) => currentValue(emu, n) === v), 60_000);
    sampling = false;
    await sampler;
    const hotConverge = convergedH === undefined ? Number.POSITIVE_INFINITY : (convergedH - loadEnd) / 1000;
    const logH = emu.requestLog();
    const throttledH = logH.filter((e) => e.errorCode === 'ThrottlingException').length;
    const awsWritesH = logH.filter((e) => WRITE_OPERATIONS.includes(e.operation) && e.status === 200);
    // Seconds that began and ended with work pending: AWS's successful writes in each.
    const rates: number[] = [];
    let pendingMs = 0;
    let pendingWrites = 0;
    for (let i = 0; i + 1 < samples.length; i++) {
      const [a, b] = [samples[i]!, samples[i + 1]!];
      if (!a.pending || !b.pending) continue;
      const n = awsWritesH.filter((e) => e.time >= a.at && e.time < b.at).length;
      pendingMs += b.at - a.at;
      pendingWrites += n;
      rates.push(n / ((b.at - a.at) / 1000));
    }
    rates.sort((x, y) => x - y);
    const meanRate = pendingMs > 0 ? pendingWrites / (pendingMs / 1000) : 0;
    const cpuHot = await cpuH();
    // The load itself: a bench process starved of CPU (a busy machine) sends less than asked, which invalidates the phase.
    const sentRate = total / sendSeconds;
    const loadKept = sentRate >= 0.95 * HOT_RATE;
    const hotOk = loadKept && throttledH === 0 && failedWrites === 0 && meanRate >= 0.9 * budget && hotConverge <= 15;
    met &&= hotOk;
    say(
      `H hot: ${total - failedWrites} of ${total} KV writes acknowledged in ${sendSeconds.toFixed(1)} s (${(total / sendSeconds).toFixed(0)}/s) to ${HOT} hot secrets ` +
        `among ${associated.length} associated → ${throttledH} ThrottlingException answers (target 0); ${awsWritesH.length} AWS writes; ` +
        `AWS write rate while work was pending (${rates.length} s): mean ${meanRate.toFixed(1)}/s = ${((meanRate / budget) * 100).toFixed(1)} % of the ` +
        `${budget}/s budget (target ≥ 90 %), slowest second ${rates[0]?.toFixed(0) ?? '-'}/s, median ${rates[Math.floor(rates.length / 2)]?.toFixed(0) ?? '-'}/s; ` +
        `all ${HOT} converged ${Number.isFinite(hotConverge) ? `${hotConverge.toFixed(1)} s` : 'NOT (60 s)'} after the last write (target ≤ 15 s); ` +
        `Ferry's CPU ${cpuHot} — ` +
        `${!loadKept ? `INVALID: the load reached ${sentRate.toFixed(0)} of ${HOT_RATE} writes/s (the bench process got too little CPU)` : hotOk ? 'met' : 'MISSED'}`,
    );
    say(`  H: AWS write calls in each second from the first KV write (throttled in brackets): ${writesPerSecond(logH, startH)}`);

    // ---- burst: 2,000 writes over 1,000 secrets ----------------------------------------------
    await sleep(2000);
    memory.enter('burst');
    emu.clearRequestLog();
    const cpuC = await cpuSince(target);
    const burstNames = associated.slice(HOT, HOT + BURST_SECRETS);
    const expected = new Map<string, string>();
    const startC = Date.now();
    const burst: Array<Promise<void>> = [];
    let failedBurst = 0;
    for (let j = 0; j < BURST_WRITES; j++) {
      const name = burstNames[j % burstNames.length]!;
      const data = { burst: j };
      // A secret's two writes are 1,000 apart in a FIFO pool of 32 connections: the later one is the later version.
      expected.set(awsName(name), JSON.stringify(data));
      burst.push(call('PUT', `secret/data/${name}`, { data }).catch(() => void failedBurst++));
    }
    await Promise.all(burst);
    const burstSent = (Date.now() - startC) / 1000;
    const convergedC = await waitUntil(() => [...expected].every(([n, v]) => currentValue(emu, n) === v), 120_000);
    const burstSeconds = convergedC === undefined ? Number.POSITIVE_INFINITY : (convergedC - startC) / 1000;
    const cpuBurst = await cpuC();
    const logC = emu.requestLog();
    const throttledC = logC.filter((e) => e.errorCode === 'ThrottlingException').length;
    const awsWritesC = logC.filter((e) => WRITE_OPERATIONS.includes(e.operation) && e.status === 200).length;
    // Checked after the timer: KV's latest versions are what AWS holds.
    let mismatched = 0;
    await pool(burstNames, CONNECTIONS, async (name) => {
      const kv = JSON.stringify((await call('GET', `secret/data/${name}`)).data.data);
      if (kv !== currentValue(emu, awsName(name))) mismatched++;
    });
    const burstTarget = 1.1 * (BURST_SECRETS / budget);
    // The burst is sent through the pool as fast as Ferry answers; a starved client stretches it, and the convergence time with it.
    const burstOk = failedBurst === 0 && burstSeconds <= burstTarget && mismatched === 0;
    met &&= burstOk;
    say(
      `burst: ${BURST_WRITES} writes over ${BURST_SECRETS} secrets sent in ${burstSent.toFixed(1)} s → converged in ` +
        `${Number.isFinite(burstSeconds) ? burstSeconds.toFixed(1) : 'NOT (120 s)'} s (target ≤ 1.1 × ${BURST_SECRETS} ÷ ${budget} = ${burstTarget.toFixed(1)} s) ` +
        `with ${awsWritesC} AWS writes, ${throttledC} throttled answers, ${failedBurst} failed KV writes, ${mismatched} secrets not at KV's latest; Ferry's CPU ${cpuBurst} — ${burstOk ? 'met' : 'MISSED'}`,
    );
    say(`  burst: AWS write calls in each second from the first KV write (throttled in brackets): ${writesPerSecond(logC, startC)}`);

    // ---- memory and Ferry's own counts ------------------------------------------------------------
    const metrics = await fetch(`${target.info.url}/v1/sys/metrics?format=prometheus`, { headers: { 'x-vault-token': target.info.rootToken } });
    const throttledTotal = counterSum(await metrics.text(), 'ferry_sync_throttled_total');
    const end = memory.sample();
    const kinds = residentKinds(target.pid);
    memory.stop();
    const heap = await target.ask<MemoryDone>({ type: MEMORY_REQUEST }, MEMORY_DONE);
    const heapLine = (u: NodeJS.MemoryUsage) =>
      `heap used ${mb(u.heapUsed / 1024).toFixed(0)} of ${mb(u.heapTotal / 1024).toFixed(0)} MB, external ${mb(u.external / 1024).toFixed(0)} MB (array buffers ${mb(u.arrayBuffers / 1024).toFixed(0)} MB), rss ${mb(u.rss / 1024).toFixed(0)} MB`;
    const syncingMax = Math.max(memory.maxRss.get('hot') ?? 0, memory.maxRss.get('burst') ?? 0, afterSetup.rss);
    const memoryOk = mb(syncingMax) < MEMORY_LIMIT_MB && mb(end.hwm) < MEMORY_LIMIT_MB;
    met &&= memoryOk;
    say(
      `memory (Ferry process, ${KV_SECRETS} KV secrets, ${associated.length} associations): VmRSS idle ${mb(idle.rss).toFixed(0)} MB, ` +
        `after setup ${mb(afterSetup.rss).toFixed(0)} MB, max while syncing ${mb(syncingMax).toFixed(0)} MB (H ${mb(memory.maxRss.get('hot') ?? 0).toFixed(0)}, ` +
        `burst ${mb(memory.maxRss.get('burst') ?? 0).toFixed(0)}), max during setup ${mb(memory.maxRss.get('setup') ?? 0).toFixed(0)} MB; ` +
        `VmHWM (peak of the whole run) ${mb(end.hwm).toFixed(0)} MB (target < ${MEMORY_LIMIT_MB} MB) — ${memoryOk ? 'met' : 'MISSED'}`,
    );
    say(
      `  Ferry's V8 at the end: ${heapLine(heap.before)}; after a full GC: ${heapLine(heap.after)}; resident before the GC: ` +
        `${mb(kinds.anon).toFixed(0)} MB anonymous, ${mb(kinds.file).toFixed(0)} MB file-backed`,
    );
    say(
      `Ferry's ferry_sync_throttled_total over the run: ${throttledTotal}; most client requests in flight: ${ferry.maxInFlight} ` +
        `(over ${CONNECTIONS} connections); load average at the end ${load()}`,
    );
  } finally {
    memory.stop();
    for (const c of clients) c.close();
    for (const t of targets) await t.stop();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return met;
}
