/**
 * Sync convergence with three HA nodes on one PostgreSQL, and failover time (issue 19). Three
 * `ferry server` processes (HA enabled) share the database; the AWS emulator, the load and the
 * measurements run here.
 *
 *  A. convergence: KV writes at BENCH_SYNC_HA_RATE/s (default 20) for BENCH_SYNC_HA_SECONDS
 *     (default 15) spread over BENCH_SYNC_HA_SECRETS (default 50) associated secrets, sent
 *     round-robin to all three nodes (the standbys forward); per write, the time from its
 *     acknowledgement to its value being AWSCURRENT in the emulator — p50, p99;
 *  B. failover: the active node SIGKILLed under the same load — the time until a standby
 *     reports itself active (target < 15 s, goal 5 s) and until every association holds its
 *     latest value again.
 *
 * The database: FERRY_TEST_PG_URL, else a throwaway PostgreSQL from Debian's binaries.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsEmulator } from '../test/support/aws-emulator/index.js';
import { waitUntil } from '../test/support/process.js';
import { converged, setUpSync, type Target } from '../test/support/sync-invariants.js';
import { haTestDatabase } from '../test/ha/database.js';
import { startHaCluster } from '../test/ha/support.js';

const RATE = Number(process.env.BENCH_SYNC_HA_RATE ?? 20);
const SECONDS = Number(process.env.BENCH_SYNC_HA_SECONDS ?? 15);
const SECRETS = Number(process.env.BENCH_SYNC_HA_SECRETS ?? 50);
const REGION = 'us-east-1';

const percentile = (sorted: number[], p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);

export async function run(): Promise<boolean> {
  const db = await haTestDatabase();
  if (!db) {
    process.stdout.write('sync-ha: skipped, no PostgreSQL (set FERRY_TEST_PG_URL or install Debian\'s postgresql)\n');
    return true;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-ha-'));
  const emu = await startAwsEmulator();
  const started = Date.now();
  const cluster = await startHaCluster({ size: 3, connectionUrl: db.url, dir, logLevel: 'warn' });
  try {
    process.stdout.write(`three nodes started and unsealed in ${Date.now() - started} ms; load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
    const names = Array.from({ length: SECRETS }, (_, i) => `bench/s${i}`);
    const first = await cluster.settled();
    process.stdout.write(`node ${first} active ${Date.now() - started} ms after the start\n`);
    await setUpSync(cluster.client(0), emu, names);
    await converged(cluster.client(0), emu, names.length, 120_000);
    // Each secret's name in AWS (the destination's name template), as the associations report it.
    const associated = (await cluster.client(0).call('GET', 'sys/sync/destinations/aws-sm/d/associations')).body.data.associated_secrets as Record<string, { secret_name: string; external_name: string }>;
    const external = new Map(Object.values(associated).map((a) => [a.secret_name, a.external_name]));
    let counter = 0;
    const latencies: number[] = [];
    const pending: Array<Promise<void>> = [];
    const statuses: Record<number, number> = {};
    /** Writes for `seconds` at RATE through every node in turn (the live ones); measures each write's convergence. */
    const load = async (seconds: number, live: () => number[]) => {
      const end = Date.now() + seconds * 1000;
      while (Date.now() < end) {
        const tickStart = Date.now();
        const nodes = live();
        const node = nodes[counter % nodes.length]!;
        const name = names[counter % names.length]!;
        const value = { n: ++counter, at: name };
        let status: number;
        try {
          status = (await cluster.client(node).call('PUT', `kv/data/${name}`, { data: value })).status;
        } catch {
          status = 0;
        }
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status === 200) {
          const acked = Date.now();
          const wanted = JSON.stringify(value);
          pending.push(
            waitUntil('the value in AWS', () => emu.getSecret(REGION, external.get(name)!)?.versions.some((v) => v.secretString === wanted) ?? false, { timeoutMs: 60_000, intervalMs: 10 }).then(
              () => void latencies.push(Date.now() - acked),
              () => undefined,
            ),
          );
        }
        await new Promise((r) => setTimeout(r, Math.max(0, 1000 / RATE - (Date.now() - tickStart))));
      }
    };
    const all = () => cluster.nodes.map((n) => n.index);
    await load(SECONDS, all);
    await Promise.all(pending.splice(0));
    const sorted = [...latencies].sort((a, b) => a - b);
    process.stdout.write(
      `A. convergence, ${latencies.length} writes at ${RATE}/s over ${SECRETS} secrets through 3 nodes: p50 ${percentile(sorted, 50)} ms, p99 ${percentile(sorted, 99)} ms, max ${sorted.at(-1)} ms; statuses ${JSON.stringify(statuses)}\n`,
    );

    const active = await cluster.settled();
    const survivors = all().filter((i) => i !== active);
    const loading = load(6, () => survivors);
    await new Promise((r) => setTimeout(r, 1000));
    const killedAt = Date.now();
    cluster.nodes[active]!.proc!.child.kill('SIGKILL');
    const { index: next } = await waitUntil('a standby to become active', async () => (await cluster.activeNodes()).map((index) => ({ index }))[0], { timeoutMs: 30_000, intervalMs: 20 });
    const failoverMs = Date.now() - killedAt;
    await loading;
    const target: Target = cluster.client(next);
    const at = await converged(target, emu, names.length, 120_000);
    process.stdout.write(`B. failover: node ${active} SIGKILLed under load; node ${next} active after ${failoverMs} ms (target < 15000, goal 5000); every association current ${at - killedAt} ms after the kill (the load went on for 5 s after it)\n`);
    return failoverMs < 15_000;
  } finally {
    await cluster.stop();
    await emu.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
