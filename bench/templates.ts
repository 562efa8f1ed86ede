/**
 * Name template benchmark (issue 13): the worst event-loop delay of a server while costly
 * secret name templates are submitted — ten chained `replace` actions on a 10 KB string, each
 * doubling it, which without the rendering budget would take seconds and gigabytes — together
 * with association sets whose 10 KB secret paths a template would blow up the same way.
 * Target: the worst delay stays under 50 ms, and every one of them is refused with a 400.
 *
 * The server runs in this process (its event loop is the one measured); the requests go over a
 * loopback socket. Settings: BENCH_TEMPLATE_REQUESTS (default 200 of each kind).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildApp } from '../src/app.js';
import { createServer } from '../src/compose.js';
import { listen } from '../src/http/server.js';

const REQUESTS = Number(process.env.BENCH_TEMPLATE_REQUESTS ?? 200);
const CONCURRENCY = 8;
const TARGET_MS = 50;

const doublings = (input: string, n: number) => `{{ ${input}${' | replace "e" "ee"'.repeat(n)} }}`;

/** Runs `jobs`, CONCURRENCY at a time, watching the event loop: its p99 and worst delay (ns), and how many answered 400. */
async function measure(jobs: Array<() => Promise<number>>): Promise<{ seconds: number; p99: number; worst: number; refused: number }> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  let refused = 0;
  let next = 0;
  const start = performance.now();
  delay.enable();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < jobs.length) if ((await jobs[next++]!()) === 400) refused++;
    }),
  );
  delay.disable();
  return { seconds: (performance.now() - start) / 1000, p99: delay.percentile(99), worst: delay.max, refused };
}

export async function run(): Promise<boolean> {
  const server = await createServer({ storagePath: ':memory:', dev: true, devRootTokenId: 'root' });
  const app = await buildApp(server.core);
  const listener = await listen(app, { address: '127.0.0.1:0', tlsDisable: true });
  const call = async (method: string, path: string, body: unknown): Promise<number> => {
    const res = await fetch(`${listener.url}/v1/${path}`, { method, headers: { 'x-vault-token': 'root' }, body: JSON.stringify(body) });
    await res.arrayBuffer();
    return res.status;
  };
  const keys = { access_key_id: 'AKIABENCHMARK0000001', secret_access_key: 'bench-secret-key', region: 'us-east-1' };
  try {
    // A destination whose template names ordinary secrets, and a secret whose 10 KB path it would blow up.
    await call('PUT', 'sys/sync/destinations/aws-sm/bench', { ...keys, secret_name_template: `vault/${doublings('.SecretPath', 6)}` });
    const longPath = `app/${'e'.repeat(10 * 1024)}`;
    await call('PUT', `secret/data/${longPath}`, { data: { v: '1' } });
    const costly = doublings(`"${'e'.repeat(10 * 1024)}"`, 10);

    const costlyJobs: Array<() => Promise<number>> = [];
    const ordinaryJobs: Array<() => Promise<number>> = [];
    for (let i = 0; i < REQUESTS; i++) {
      costlyJobs.push(() => call('PUT', `sys/sync/destinations/aws-sm/costly-${i}`, { ...keys, secret_name_template: costly }));
      costlyJobs.push(() => call('PUT', 'sys/sync/destinations/aws-sm/bench/associations/set', { mount: 'secret', secret_name: longPath }));
      ordinaryJobs.push(() => call('PUT', `sys/sync/destinations/aws-sm/ordinary-${i}`, { ...keys, secret_name_template: doublings('.SecretPath', 2) }));
      ordinaryJobs.push(() => call('PUT', 'sys/sync/destinations/aws-sm/bench/associations/set', { mount: 'secret', secret_name: 'app/short' }));
    }
    await call('PUT', 'secret/data/app/short', { data: { v: '1' } });
    // Warm up first: the first requests load and compile modules, which is not what is measured.
    for (const job of [...costlyJobs, ...ordinaryJobs].slice(0, 4 * CONCURRENCY)) await job();
    // The same number of ordinary requests first, as the baseline of this machine at this moment:
    // on a busy machine, the time the process waits for a CPU also counts as event-loop delay.
    const baseline = await measure(ordinaryJobs);
    const measured = await measure(costlyJobs);
    const ms = (ns: number) => (ns / 1e6).toFixed(1);
    process.stdout.write(
      `baseline: ${ordinaryJobs.length} ordinary submissions in ${baseline.seconds.toFixed(2)} s, event-loop delay p99 ${ms(baseline.p99)} ms, worst ${ms(baseline.worst)} ms\n` +
        `${costlyJobs.length} costly template submissions (${REQUESTS} destination writes with ten chained replace actions on a 10 KB string, ` +
        `${REQUESTS} association sets of a 10 KB secret path) in ${measured.seconds.toFixed(2)} s, ${CONCURRENCY} at a time: ` +
        `${measured.refused} refused with 400; event-loop delay p99 ${ms(measured.p99)} ms, worst ${ms(measured.worst)} ms (target < ${TARGET_MS} ms)\n`,
    );
    return measured.worst / 1e6 < TARGET_MS && measured.refused === costlyJobs.length;
  } finally {
    await listener.close();
    await server.close();
  }
}
