/**
 * Ferry's dev server (KV v2 at `secret/`, root token `root`) on a FILE-backed SQLite store
 * in the given directory: WAL with synchronous=NORMAL, as in production; or, given a second
 * argument, on the (empty) PostgreSQL database at that URL. No audit device.
 * Prints `{"url": …, "rootToken": …, "unsealKey": …}` once it listens. Seeds KV secrets and
 * associations when the parent asks (`lib/seed.ts`).
 *
 * `ferry-server.ts <dir> [<postgresql url>] [--seed|--reopen]`:
 * - (neither): the dev server, its sync worker running, as `main.ts` runs it;
 * - `--seed`: the dev server with its sync worker stopped, for a short-lived process that only
 *   seeds the store (so the measured process does not carry the seeding's garbage);
 * - `--reopen`: a server on the store a `--seed` process left (not dev: sealed; the parent
 *   unseals it over HTTP with the printed key), its sync worker running.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { writeHeapSnapshot } from 'node:v8';
import { join } from 'node:path';
import { buildApp } from '../../src/app.js';
import { createServer } from '../../src/compose.js';
import { listen } from '../../src/http/server.js';
import { answerCpuQueries } from '../lib/cpu.js';
import { MEMORY_DONE, MEMORY_REQUEST, SEED_DONE, SEED_REQUEST, seededValue, type MemoryDone, type SeedDone, type SeedRequest } from '../lib/seed.js';

// The product's V8 settings, as `bin/ferry.js` applies them, unless BENCH_FERRY_V8=default (V8's
// own, for before/after comparisons). Before the server allocates anything.
if (process.env.BENCH_FERRY_V8 !== 'default') (await productV8Settings()).applyV8Settings();

const args = process.argv.slice(2);
const mode = args.includes('--seed') ? 'seed' : args.includes('--reopen') ? 'reopen' : undefined;
const [dir, postgresUrl] = args.filter((a) => !a.startsWith('--'));
if (!dir) throw new Error('usage: ferry-server.ts <dir> [<postgresql url>] [--seed|--reopen]');
const server = await createServer({
  storagePath: join(dir, 'ferry.db'),
  ...(postgresUrl ? { postgres: { connectionUrl: postgresUrl, haEnabled: false } } : {}),
  dev: mode !== 'reopen',
  devRootTokenId: 'root',
});
// As `main.ts` does: sync's background work runs (it waits for the unseal of a reopened store).
if (mode !== 'seed') server.sync.worker.start();
server.expirySweep.start();
const app = await buildApp(server.core);
const listener = await listen(app, { address: '127.0.0.1:0', tlsDisable: true });
answerCpuQueries();
traceMemory(process.env.BENCH_MEMORY_TRACE);
const heapProfile = sampleHeap(process.env.BENCH_HEAP_DIR);
process.on('message', (message: unknown) => {
  if ((message as { type?: string } | null)?.type === MEMORY_REQUEST) {
    const before = process.memoryUsage();
    heapProfile?.();
    (globalThis as { gc?: () => void }).gc?.();
    if (process.env.BENCH_HEAP_DIR) writeHeapSnapshot(join(process.env.BENCH_HEAP_DIR, `ferry-${process.pid}.heapsnapshot`));
    process.send?.({ type: MEMORY_DONE, before, after: process.memoryUsage() } satisfies MemoryDone);
    return;
  }
  const m = message as SeedRequest | null;
  if (m?.type !== SEED_REQUEST) return;
  const reply = (done: Omit<SeedDone, 'type'>) => process.send?.({ type: SEED_DONE, ...done } satisfies SeedDone);
  seed(m).then((associated) => reply({ associated }), (err: unknown) => reply({ associated: [], error: (err as Error).message }));
});

/** Writes the KV secrets (64 at a time) and sets every `every`-th one's association (`lib/seed.ts`). */
async function seed(m: SeedRequest): Promise<string[]> {
  const associated: string[] = [];
  const headers = { 'x-vault-token': server.rootToken ?? 'root' };
  for (let start = 0; start < m.kv; start += 64) {
    const batch = Array.from({ length: Math.min(64, m.kv - start) }, (_, k) => start + k);
    await Promise.all(
      batch.map(async (i) => {
        const name = `${m.prefix}${i}`;
        const res = await app.inject({ method: 'PUT', url: `/v1/${m.mount}/data/${name}`, headers, payload: { data: seededValue(i) } });
        if (res.statusCode >= 400) throw new Error(`seeding ${name}: ${res.statusCode} ${res.body}`);
        if (i % m.every === 0 && associated.length < m.associate) {
          associated.push(name);
          await server.sync.service.setAssociation(m.destination.type, m.destination.name, m.mount, name, null);
        }
      }),
    );
  }
  return associated;
}
process.stdout.write(`${JSON.stringify({ url: listener.url, rootToken: server.rootToken ?? 'root', unsealKey: server.devUnsealKey })}\n`);
process.on('SIGTERM', () => {
  void listener.close().then(async () => {
    await server.close();
    process.exit(0);
  });
});

/**
 * BENCH_MEMORY_TRACE=<file>: appends the process's `process.memoryUsage()` (MB) as one JSON
 * line every 500 ms (the benchmark adds a line at each phase), to see which of V8's heap, its external memory or the rest (native:
 * SQLite, OpenSSL, malloc) makes a peak of resident memory. For finding costs only.
 */
function traceMemory(file: string | undefined): void {
  if (!file) return;
  const started = Date.now();
  const mbOf = (bytes: number) => Math.round(bytes / 1048576);
  setInterval(() => {
    const m = process.memoryUsage();
    const line = { t: (Date.now() - started) / 1000, at: Date.now(), pid: process.pid, rss: mbOf(m.rss), heapTotal: mbOf(m.heapTotal), heapUsed: mbOf(m.heapUsed), external: mbOf(m.external), arrayBuffers: mbOf(m.arrayBuffers) };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  }, 500).unref();
}

/**
 * BENCH_HEAP_DIR=<dir>: V8's sampling heap profiler runs from the start, counting what full
 * garbage collections free too (not what scavenges free): the allocations that lived long
 * enough to be promoted to the old generation and died there — what grows V8's heap between
 * full collections. Written, with a heap snapshot after a full GC, when the benchmark asks
 * for the memory breakdown at its end (`ferry-<pid>.heapprofile` / `.heapsnapshot`).
 */
function sampleHeap(dir: string | undefined): (() => void) | undefined {
  if (!dir) return undefined;
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false });
  return () =>
    session.post('HeapProfiler.stopSampling', (err, result) => {
      if (!err) writeFileSync(join(dir, `ferry-${process.pid}.heapprofile`), JSON.stringify(result.profile));
    });
}

/** `bin/v8-settings.js` of this checkout, whether this runs from `bench/targets/` (tsx) or compiled into `tmp/bench-targets/`. */
async function productV8Settings(): Promise<{ applyV8Settings(): void }> {
  for (let dir = new URL('..', import.meta.url); dir.pathname !== '/'; dir = new URL('..', dir)) {
    const settings = new URL('bin/v8-settings.js', dir);
    if (existsSync(settings)) return (await import(settings.href)) as { applyV8Settings(): void };
  }
  throw new Error('bin/v8-settings.js not found above bench/targets/');
}
