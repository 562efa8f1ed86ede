/**
 * Bulk sync benchmark (issue 21): a prefix association over 10,000 existing secrets, against
 * the in-repo AWS emulator with its default (real) quotas; Ferry runs in its own process on a
 * file-backed store with its worker running.
 *
 *  - the time `prefixes/set` takes to answer — target: at once (< 1 s), whatever the count;
 *  - the time until every secret is in AWS, and the rate against the destination's create
 *    budget (45 calls/s) — target ≥ 90 %;
 *  - the progress the API shows meanwhile (`prefixes` every second, the destination status every
 *    5 s): brought-in and synced counts must never go backwards.
 *
 * Settings: BENCH_BULK_SECRETS (default 10000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsEmulator } from '../test/support/aws-emulator/index.js';
import { startTarget } from './lib/child.js';
import { pool } from './lib/pool.js';

const SECRETS = Number(process.env.BENCH_BULK_SECRETS ?? 10_000);
const REGION = 'us-east-1';
const BUDGET = 45;

interface Ferry {
  url: string;
  rootToken: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

function client(ferry: Ferry) {
  return async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${ferry.url}/v1/${path}`, {
      method,
      headers: { 'x-vault-token': ferry.rootToken },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
}

/** Non-decreasing? */
const monotonic = (xs: number[]) => xs.every((x, i) => i === 0 || x >= xs[i - 1]!);

export async function run(): Promise<boolean> {
  const emu = await startAwsEmulator();
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-bulk-'));
  const target = await startTarget<Ferry>('ferry-server.ts', [dir]);
  const call = client(target.info);
  let met: boolean;
  try {
    process.stdout.write(`started ${new Date().toISOString()}, load average ${load()}\n`);
    await call('PUT', 'sys/sync/destinations/aws-sm/bulk', {
      access_key_id: 'AKIABENCHMARK0000001',
      secret_access_key: 'bench-secret-key',
      region: REGION,
      endpoint_url: emu.endpoint,
    });
    const names = Array.from({ length: SECRETS }, (_, i) => `apps/team-${i % 20}/s${i}`);
    const tw = performance.now();
    await pool([...names, 'apps2/outside', 'other'], 16, async (n) => {
      await call('PUT', `secret/data/${n}`, { data: { n } });
    });
    process.stdout.write(`setup: ${SECRETS} secrets written in ${((performance.now() - tw) / 1000).toFixed(1)} s\n`);
    // Let the worker see those writes (nothing is associated yet) before the clock starts.
    await sleep(2_000);

    const t0 = performance.now();
    await call('PUT', 'sys/sync/destinations/aws-sm/bulk/prefixes/set', { mount: 'secret', prefix: 'apps/' });
    const answered = performance.now() - t0;

    const brought: number[] = [];
    const syncedCounts: number[] = [];
    const samples: string[] = [];
    let done: number | undefined;
    let lastStatus = 0;
    while (performance.now() - t0 < 900_000) {
      const listed = await call('GET', 'sys/sync/destinations/aws-sm/bulk/prefixes');
      const p = Object.values(listed.data.associated_prefixes)[0] as { brought_in: number; state: string };
      brought.push(p.brought_in);
      if (performance.now() - lastStatus >= 5_000) {
        lastStatus = performance.now();
        const s = (await call('GET', 'sys/sync/destinations/aws-sm/bulk/status')).data;
        const synced = s.sync_status_counts.SYNCED ?? 0;
        syncedCounts.push(synced);
        samples.push(
          `  t=${((performance.now() - t0) / 1000).toFixed(0)}s brought_in=${p.brought_in} (${p.state}) synced=${synced} pending=${s.prefixes?.[0]?.pending} queue_depth=${s.queue_depth} budget.create=${s.budget_per_second.create.toFixed(1)}`,
        );
      }
      const inAws = emu.listSecretNames(REGION).length;
      if (inAws >= SECRETS) {
        done = performance.now() - t0;
        break;
      }
      await sleep(1_000);
    }
    const final = (await call('GET', 'sys/sync/destinations/aws-sm/bulk/status')).data;
    syncedCounts.push(final.sync_status_counts.SYNCED ?? 0);
    const outside = emu.listSecretNames(REGION).filter((n) => !n.includes('/apps/'));

    const rate = done === undefined ? 0 : SECRETS / (done / 1000);
    const answeredOk = answered < 1_000;
    const rateOk = rate >= 0.9 * BUDGET;
    const progressOk = monotonic(brought) && monotonic(syncedCounts) && brought.length > 2;
    met = answeredOk && rateOk && progressOk && done !== undefined && outside.length === 0;
    process.stdout.write(
      `prefix over ${SECRETS} secrets: set answered in ${answered.toFixed(0)} ms (target < 1000 ms) ${answeredOk ? 'MET' : 'MISSED'}\n` +
        (done === undefined
          ? `  NOT all in AWS within 900 s (${emu.listSecretNames(REGION).length})\n`
          : `  all ${SECRETS} in AWS after ${(done / 1000).toFixed(1)} s: ${rate.toFixed(1)}/s against the budget of ${BUDGET}/s = ${((100 * rate) / BUDGET).toFixed(0)} % (target ≥ 90 %) ${rateOk ? 'MET' : 'MISSED'}\n`) +
        `  progress: ${brought.length} samples of brought_in (1 s) and ${syncedCounts.length} of SYNCED (5 s), monotonic: ${progressOk ? 'yes' : 'NO'}; outside the prefix in AWS: ${outside.length}\n` +
        `${samples.join('\n')}\n` +
        `  final: ${JSON.stringify({ counts: final.sync_status_counts, prefixes: final.prefixes })}\n` +
        `ended ${new Date().toISOString()}, load average ${load()}\n`,
    );
  } finally {
    await target.stop();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return met;
}
